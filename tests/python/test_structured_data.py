"""Structured data end to end, as TensorFlow's "Classify structured data using Keras preprocessing
layers" tutorial does it: one ff.Input per column (string, int64 and float), StringLookup /
IntegerLookup + CategoryEncoding and Normalization adapted on the training data, concatenate,
Dense/Dropout, trained from a dict of arrays and from a Dataset of (dict, label), saved and
loaded so the loaded model predicts on raw string columns. Plus the strict dtype errors at the
model boundary. Data: a synthetic pet table whose label depends only on its categorical columns
(so learning is proof that the lookups work) and scikit-learn's breast-cancer CSV with columns
binned into string and integer categories."""
import numpy as np
import pandas as pd
import pytest

import forgeflow as ff

STRING_COLUMNS = ["Type", "Color"]
INT_COLUMNS = ["Age"]
FLOAT_COLUMNS = ["Fee"]


def pet_frame(n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "Type": rng.choice(["Cat", "Dog", "Bird", "Rabbit"], n),
        "Color": rng.choice(["Black", "Brown", "White", "Golden", "Gray"], n),
        "Age": rng.integers(0, 10, n).astype(np.int64),
        "Fee": rng.normal(50.0, 20.0, n),
    })
    score = (frame["Type"].map({"Cat": 1.0, "Dog": -1.0, "Bird": 0.5, "Rabbit": -0.5})
             + frame["Color"].map({"Black": -1.0, "Brown": 0.5, "White": 1.0, "Golden": -0.5,
                                   "Gray": 0.0})
             + np.where(frame["Age"] % 3 == 0, 1.0, -0.6))
    frame["target"] = (score > 0).astype(np.int64)
    return frame


def df_to_dataset(frame, batch_size=32, shuffle=False):
    """The tutorial's helper: (dict of (N, 1) columns, labels), batched."""
    frame = frame.copy()
    labels = frame.pop("target").to_numpy()
    columns = {key: value.to_numpy()[:, None] for key, value in frame.items()}
    ds = ff.data.Dataset.from_tensor_slices((columns, labels))
    if shuffle:
        ds = ds.shuffle(buffer_size=len(frame), seed=1)
    return ds.batch(batch_size)


def build_tutorial_model(train_ds, string_columns, int_columns, float_columns,
                         normalization_axis=None):
    all_inputs, encoded = [], []
    for name in float_columns:
        col = ff.Input(shape=(1,), name=name)
        norm = ff.layers.Normalization(axis=normalization_axis)
        norm.adapt(train_ds.map(lambda x, y, name=name: x[name]))
        all_inputs.append(col)
        encoded.append(norm(col))
    for name, dtype, lookup_cls in ([(n, "string", ff.layers.StringLookup) for n in string_columns]
                                    + [(n, "int64", ff.layers.IntegerLookup) for n in int_columns]):
        col = ff.Input(shape=(1,), name=name, dtype=dtype)
        lookup = lookup_cls(max_tokens=16)
        lookup.adapt(train_ds.map(lambda x, y, name=name: x[name]))
        encoder = ff.layers.CategoryEncoding(num_tokens=lookup.vocabulary_size(),
                                             output_mode="one_hot")
        all_inputs.append(col)
        encoded.append(encoder(lookup(col)))
    x = ff.layers.concatenate(encoded)
    x = ff.layers.Dense(32, activation="relu")(x)
    x = ff.layers.Dropout(0.3, seed=3)(x)
    output = ff.layers.Dense(1, activation="sigmoid")(x)
    model = ff.Model(all_inputs, output)
    model.compile(optimizer=ff.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def columns_of(frame):
    return {k: v.to_numpy() for k, v in frame.drop(columns="target").items()}


@pytest.fixture(scope="module")
def pets():
    return pet_frame(1600, seed=0), pet_frame(400, seed=1)


def test_tutorial_model_trains_from_a_dataset_of_dicts(pets):
    ff.utils.set_random_seed(0)
    train, val = pets
    train_ds = df_to_dataset(train, shuffle=True)
    val_ds = df_to_dataset(val)
    model = build_tutorial_model(train_ds, STRING_COLUMNS, INT_COLUMNS, FLOAT_COLUMNS)
    history = model.fit(train_ds, epochs=12, validation_data=val_ds, verbose=0)
    majority = max(val["target"].mean(), 1 - val["target"].mean())
    assert history.history["val_accuracy"][-1] > majority + 0.2
    assert history.history["val_accuracy"][-1] > 0.9
    # The same model evaluates and predicts on a dict of arrays (strings as object arrays).
    loss, accuracy = model.evaluate(columns_of(val), val["target"].to_numpy(), verbose=0)
    assert accuracy == pytest.approx(history.history["val_accuracy"][-1], abs=1e-6)
    predictions = model.predict(val_ds, verbose=0)
    np.testing.assert_allclose(predictions, model.predict(columns_of(val), verbose=0), atol=1e-6)


def test_tutorial_model_trains_from_a_dict_of_arrays(pets):
    ff.utils.set_random_seed(1)
    train, val = pets
    model = build_tutorial_model(df_to_dataset(train), STRING_COLUMNS, INT_COLUMNS, FLOAT_COLUMNS)
    columns = columns_of(train)
    assert columns["Type"].dtype == object  # pandas strings, as users pass them
    model.fit(columns, train["target"].to_numpy(), epochs=12, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(columns_of(val), val["target"].to_numpy(), verbose=0)
    majority = max(val["target"].mean(), 1 - val["target"].mean())
    assert accuracy > majority + 0.2
    # Unseen categories go to the OOV index instead of failing.
    unseen = columns_of(val.head(3))
    unseen["Type"] = np.array(["Hamster", "Cat", "Snake"], dtype=object)
    assert model.predict(unseen, verbose=0).shape == (3, 1)


def test_save_and_load_predicts_the_same_on_raw_columns(pets, tmp_path):
    ff.utils.set_random_seed(2)
    train, val = pets
    model = build_tutorial_model(df_to_dataset(train), STRING_COLUMNS, INT_COLUMNS, FLOAT_COLUMNS,
                                 normalization_axis=-1)
    model.fit(df_to_dataset(train), epochs=2, verbose=0)
    path = tmp_path / "pets.ff"
    model.save(path)
    loaded = ff.models.load_model(path)
    assert [t.dtype for t in loaded.inputs] == [t.dtype for t in model.inputs]
    for before in model.layers:
        if isinstance(before, (ff.layers.StringLookup, ff.layers.IntegerLookup)):
            after = loaded.get_layer(before.name)
            assert after.get_vocabulary() == before.get_vocabulary()  # the adapted vocabulary
    expected = model.predict(columns_of(val), verbose=0)
    np.testing.assert_array_equal(loaded.predict(columns_of(val), verbose=0), expected)
    np.testing.assert_array_equal(loaded.predict(df_to_dataset(val), verbose=0), expected)
    # Flat columns straight from the DataFrame (dict(frame)), elements x only.
    flat = ff.data.Dataset.from_tensor_slices(dict(val.drop(columns="target"))).batch(64)
    np.testing.assert_array_equal(loaded.predict(flat, verbose=0), expected)


def test_real_tabular_data_with_string_and_integer_categories():
    """scikit-learn's breast-cancer CSV: three measurements binned into string and integer
    categories, one kept numeric; the model learns the diagnosis through the lookups."""
    from sklearn.datasets import load_breast_cancer
    ff.utils.set_random_seed(4)
    data = load_breast_cancer(as_frame=True).frame
    frame = pd.DataFrame({
        "radius": pd.qcut(data["mean radius"], 5, labels=["xs", "s", "m", "l", "xl"]).astype(str),
        "concavity": pd.qcut(data["mean concave points"], 6, labels=False).astype(np.int64),
        "texture": data["mean texture"],
        "target": data["target"].astype(np.int64),
    })
    shuffled = frame.sample(frac=1.0, random_state=0)
    train, test = shuffled.iloc[:450], shuffled.iloc[450:]
    model = build_tutorial_model(df_to_dataset(train), ["radius"], ["concavity"], ["texture"])
    model.fit(df_to_dataset(train, shuffle=True), epochs=15, verbose=0)
    _, accuracy = model.evaluate(df_to_dataset(test), verbose=0)
    majority = max(test["target"].mean(), 1 - test["target"].mean())
    assert accuracy > majority + 0.2


def test_make_csv_dataset_string_columns_train(tmp_path):
    train = pet_frame(600, seed=5)
    path = tmp_path / "pets.csv"
    train.to_csv(path, index=False)
    ds = ff.data.experimental.make_csv_dataset(str(path), batch_size=32, label_name="target",
                                               num_epochs=1, shuffle=False)
    model = build_tutorial_model(df_to_dataset(train), STRING_COLUMNS, INT_COLUMNS, FLOAT_COLUMNS)
    history = model.fit(ds, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


# ---------------------------------------------------------------- strict boundaries
def small_model():
    kind = ff.Input(shape=(1,), name="Type", dtype="string")
    fee = ff.Input(shape=(1,), name="Fee")
    lookup = ff.layers.StringLookup(vocabulary=["Cat", "Dog"], output_mode="one_hot")
    x = ff.layers.concatenate([lookup(kind), fee])
    model = ff.Model([kind, fee], ff.layers.Dense(1)(x))
    model.compile(loss="mse")
    return model


def test_input_dtype_is_recorded():
    t = ff.Input(shape=(1,), name="Type", dtype="string")
    assert t.dtype == "string" and "dtype=string" in repr(t)
    assert ff.Input(shape=(1,), dtype=np.int64).dtype == "int64"
    assert ff.Input(shape=(1,)).dtype == "float32"
    with pytest.raises(ValueError, match="dtype"):
        ff.Input(shape=(1,), dtype="complex64")
    assert ff.layers.InputLayer(shape=(1,), dtype="string").get_config()["dtype"] == "string"


def test_wrong_column_dtypes_name_the_input():
    model = small_model()
    kinds = np.array(["Cat", "Dog"], dtype=object)
    fees = np.array([1.0, 2.0])
    assert model.predict({"Type": kinds, "Fee": fees}, verbose=0).shape == (2, 1)
    with pytest.raises(TypeError, match=r"""x\['Type'\].*"Type" has dtype string.*float64"""):
        model.predict({"Type": fees, "Fee": fees}, verbose=0)
    with pytest.raises(TypeError, match=r"""x\['Fee'\].*"Fee" has dtype float32.*StringLookup"""):
        model.predict({"Type": kinds, "Fee": kinds}, verbose=0)
    ds = ff.data.Dataset.from_tensor_slices(({"Type": fees, "Fee": fees}, fees)).batch(2)
    with pytest.raises(TypeError, match="Type"):
        model.fit(ds, verbose=0)


def test_string_inputs_only_feed_lookups():
    kind = ff.Input(shape=(1,), name="Type", dtype="string")
    with pytest.raises(TypeError, match=r'"Type" has dtype string.*"dense_of_strings"'):
        ff.Model(kind, ff.layers.Dense(1, name="dense_of_strings")(kind))
    age = ff.Input(shape=(1,), name="Age", dtype="int64")
    lookup = ff.layers.IntegerLookup(vocabulary=[1, 2])
    with pytest.raises(ValueError, match=r'"Age" is read by the lookup layer.*also by'):
        ff.Model(age, ff.layers.concatenate([lookup(age), ff.layers.Reshape((1,))(age)]))
    fee = ff.Input(shape=(1,), name="Fee")
    with pytest.raises(TypeError, match='dtype string; input "Fee" has dtype float32'):
        ff.layers.StringLookup(vocabulary=["a"])(fee)
    with pytest.raises(TypeError, match="int64 or int32"):
        ff.layers.IntegerLookup(vocabulary=[1])(fee)
    with pytest.raises(ValueError, match="applied to an ff.Input directly"):
        ff.layers.IntegerLookup(vocabulary=[1])(ff.layers.Dense(1)(fee))
    with pytest.raises(ValueError, match="invert=True"):
        ff.layers.StringLookup(vocabulary=["a"], invert=True)(kind)
    with pytest.raises(ValueError, match="Sequential"):
        ff.Sequential([ff.Input(shape=(1,), dtype="string"), ff.layers.Dense(1)])


def test_tensorflow_tutorial_code_ports_by_changing_the_import():
    """tf.org/tutorials/structured_data/preprocessing_layers, line for line with `tf` -> `ff`
    (numpy for tf.convert_to_tensor / tf.nn.sigmoid), on a PetFinder-like table."""
    ff.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    n = 1200
    dataframe = pd.DataFrame({
        "Type": rng.choice(["Cat", "Dog"], n),
        "Age": rng.integers(1, 30, n).astype(np.int64),
        "Breed1": rng.choice(["Tabby", "Mixed Breed", "Domestic Short Hair", "Poodle"], n),
        "Gender": rng.choice(["Male", "Female"], n),
        "Color1": rng.choice(["Black", "Brown", "White"], n),
        "Fee": rng.choice([0, 50, 100, 200], n).astype(np.int64),
        "PhotoAmt": rng.integers(0, 10, n).astype(np.int64),
    })
    dataframe["target"] = ((dataframe["Breed1"] == "Mixed Breed") ^ (dataframe["Color1"] == "Black")
                           ^ (dataframe["Age"] % 2 == 0)).astype(np.int64)
    train, val = dataframe.iloc[:1000], dataframe.iloc[1000:]

    def df_to_dataset(dataframe, shuffle=True, batch_size=32):
        df = dataframe.copy()
        labels = df.pop("target")
        df = {key: value.to_numpy()[:, np.newaxis] for key, value in dataframe.items()
              if key != "target"}
        ds = ff.data.Dataset.from_tensor_slices((dict(df), labels))
        if shuffle:
            ds = ds.shuffle(buffer_size=len(dataframe))
        ds = ds.batch(batch_size)
        ds = ds.prefetch(batch_size)
        return ds

    def get_normalization_layer(name, dataset):
        normalizer = ff.layers.Normalization(axis=None)
        feature_ds = dataset.map(lambda x, y: x[name])
        normalizer.adapt(feature_ds)
        return normalizer

    def get_category_encoding_layer(name, dataset, dtype, max_tokens=None):
        if dtype == "string":
            index = ff.layers.StringLookup(max_tokens=max_tokens)
        else:
            index = ff.layers.IntegerLookup(max_tokens=max_tokens)
        feature_ds = dataset.map(lambda x, y: x[name])
        index.adapt(feature_ds)
        encoder = ff.layers.CategoryEncoding(num_tokens=index.vocabulary_size())
        return lambda feature: encoder(index(feature))

    batch_size = 32
    train_ds = df_to_dataset(train, batch_size=batch_size)
    val_ds = df_to_dataset(val, shuffle=False, batch_size=batch_size)
    all_inputs, encoded_features = [], []
    for header in ["PhotoAmt", "Fee"]:
        numeric_col = ff.Input(shape=(1,), name=header)
        normalization_layer = get_normalization_layer(header, train_ds)
        encoded_numeric_col = normalization_layer(numeric_col)
        all_inputs.append(numeric_col)
        encoded_features.append(encoded_numeric_col)
    age_col = ff.Input(shape=(1,), name="Age", dtype="int64")
    encoding_layer = get_category_encoding_layer(name="Age", dataset=train_ds, dtype="int64",
                                                 max_tokens=31)
    encoded_age_col = encoding_layer(age_col)
    all_inputs.append(age_col)
    encoded_features.append(encoded_age_col)
    for header in ["Type", "Breed1", "Gender", "Color1"]:
        categorical_col = ff.Input(shape=(1,), name=header, dtype="string")
        encoding_layer = get_category_encoding_layer(name=header, dataset=train_ds,
                                                     dtype="string", max_tokens=5)
        encoded_categorical_col = encoding_layer(categorical_col)
        all_inputs.append(categorical_col)
        encoded_features.append(encoded_categorical_col)

    all_features = ff.layers.concatenate(encoded_features)
    x = ff.layers.Dense(32, activation="relu")(all_features)
    x = ff.layers.Dropout(0.5)(x)
    output = ff.layers.Dense(1)(x)
    model = ff.Model(all_inputs, output)
    model.compile(optimizer="adam", loss=ff.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(train_ds, epochs=40, validation_data=val_ds, verbose=0)
    result = model.evaluate(val_ds, return_dict=True, verbose=0)
    majority = max(val["target"].mean(), 1 - val["target"].mean())
    assert result["accuracy"] > majority + 0.15

    sample = {"Type": "Cat", "Age": 3, "Breed1": "Tabby", "Gender": "Male", "Color1": "Black",
              "Fee": 100, "PhotoAmt": 2}
    input_dict = {name: np.array([value]) for name, value in sample.items()}
    predictions = model.predict(input_dict, verbose=0)
    prob = 1 / (1 + np.exp(-predictions[0]))
    assert predictions.shape == (1, 1) and 0 < prob[0] < 1
    # (The tutorial then saves and reloads the model: see the next test.)


def test_tutorial_save_and_reload_with_scalar_normalization(tmp_path):
    kind = ff.Input(shape=(1,), name="Type", dtype="string")
    fee = ff.Input(shape=(1,), name="Fee")
    lookup = ff.layers.StringLookup()
    lookup.adapt(np.array(["Cat", "Dog", "Dog"]))
    norm = ff.layers.Normalization(axis=None)
    norm.adapt(np.array([0.0, 50.0, 100.0]))
    x = ff.layers.concatenate([ff.layers.CategoryEncoding(3)(lookup(kind)), norm(fee)])
    model = ff.Model([kind, fee], ff.layers.Dense(1)(x))
    model.compile(loss="mse")
    model.save(tmp_path / "pets.ff")
    reloaded_model = ff.models.load_model(tmp_path / "pets.ff")
    input_dict = {"Type": np.array(["Cat"]), "Fee": np.array([100])}
    np.testing.assert_array_equal(reloaded_model.predict(input_dict, verbose=0),
                                  model.predict(input_dict, verbose=0))


def test_lookups_stay_exact_under_a_16_bit_policy():
    """bfloat16 holds integers exactly only up to 256: the lookup and encoding layers keep
    float32 whatever the global policy, so a vocabulary of 300 still encodes exactly."""
    ff.mixed_precision.set_global_policy("mixed_bfloat16")
    tokens = np.array([f"k{i}" for i in range(300)])
    inp = ff.Input(shape=(1,), name="kind", dtype="string")
    lookup = ff.layers.StringLookup(vocabulary=tokens)
    encode = ff.layers.CategoryEncoding(lookup.vocabulary_size(), output_mode="one_hot")
    model = ff.Model(inp, encode(lookup(inp)))
    assert lookup.compute_dtype == "float32" and encode.compute_dtype == "float32"
    column = tokens[::-1][:, None]
    np.testing.assert_array_equal(model.predict(column, verbose=0),
                                  np.eye(301, dtype=np.float32)[300 - np.arange(300)])
