"""StringLookup / IntegerLookup (python/forgeflow/layers/lookup.py) against Keras's documented
examples: index layout, OOV and mask tokens, max_tokens, adapt's frequency order (ties broken by
the token, highest first), invert, the encoded output modes, adapt from arrays, datasets and
generators, vocabulary files, config round trips and the strict errors."""
import numpy as np
import pytest

import forgeflow as ff

VOCAB = ["a", "b", "c", "d"]
DATA = np.array([["a", "c", "d"], ["d", "z", "b"]])


def test_string_lookup_known_vocabulary():
    layer = ff.layers.StringLookup(vocabulary=VOCAB)
    np.testing.assert_array_equal(layer(DATA), [[1, 3, 4], [4, 0, 2]])
    assert layer(DATA).dtype == np.int64
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c", "d"]
    assert layer.get_vocabulary(include_special_tokens=False) == VOCAB
    assert layer.vocabulary_size() == 5


def test_string_lookup_adapt_orders_by_frequency_then_token():
    # keras.io: adapting on DATA gives ['[UNK]', 'd', 'z', 'c', 'b', 'a'] ("d" twice; the
    # single ones by token, highest first).
    layer = ff.layers.StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(layer(DATA), [[5, 3, 1], [1, 2, 4]])


def test_max_tokens_counts_special_indices():
    layer = ff.layers.StringLookup(max_tokens=3)
    layer.adapt(np.array(["x", "y", "y", "z", "z", "z"]))
    assert layer.get_vocabulary() == ["[UNK]", "z", "y"]
    np.testing.assert_array_equal(layer(np.array(["x", "y", "z"])), [0, 2, 1])
    with pytest.raises(ValueError, match="larger than the maximum vocab size"):
        ff.layers.StringLookup(max_tokens=3, vocabulary=["p", "q", "r"])


def test_mask_token_and_several_oov_indices():
    # keras.io: mask_token="" -> [[2, 4, 5], [5, 1, 0]]
    layer = ff.layers.StringLookup(vocabulary=VOCAB, mask_token="")
    np.testing.assert_array_equal(layer(np.array([["a", "c", "d"], ["d", "z", ""]])),
                                  [[2, 4, 5], [5, 1, 0]])
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", "c", "d"]
    two = ff.layers.StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    out = two(np.array(["a", "zz", "zz", "qq"]))
    assert out[0] == 2 and out[1] == out[2] and set(out[1:]) <= {0, 1}
    assert two.get_vocabulary()[:2] == ["[UNK]", "[UNK]"]


def test_no_oov_index_refuses_unknown_tokens():
    layer = ff.layers.StringLookup(vocabulary=VOCAB, num_oov_indices=0)
    np.testing.assert_array_equal(layer(np.array(["a", "d"])), [0, 3])
    with pytest.raises(ValueError, match=r"'z'.*num_oov_indices=0"):
        layer(DATA)


def test_invert_maps_indices_back():
    # keras.io: inverse of [[1, 3, 4], [4, 0, 2]]
    inverse = ff.layers.StringLookup(vocabulary=VOCAB, invert=True)
    np.testing.assert_array_equal(inverse(np.array([[1, 3, 4], [4, 0, 2]])),
                                  [["a", "c", "d"], ["d", "[UNK]", "b"]])
    forward = ff.layers.StringLookup(vocabulary=VOCAB)
    back = ff.layers.StringLookup(vocabulary=forward.get_vocabulary(), invert=True)
    np.testing.assert_array_equal(back(forward(DATA)), [["a", "c", "d"], ["d", "[UNK]", "b"]])
    with pytest.raises(ValueError, match='must be "int" when `invert`'):
        ff.layers.StringLookup(vocabulary=VOCAB, invert=True, output_mode="one_hot")


def test_encoded_output_modes():
    # keras.io: one_hot of ["a", "b", "c", "d", "z"] with VOCAB
    one_hot = ff.layers.StringLookup(vocabulary=VOCAB, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot(np.array(["a", "b", "c", "d", "z"])),
                                  np.eye(5)[[1, 2, 3, 4, 0]])
    # keras.io multi_hot / count of [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    data = np.array([["a", "c", "d", "d"], ["d", "z", "b", "z"]])
    multi = ff.layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")
    np.testing.assert_array_equal(multi(data), [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    count = ff.layers.StringLookup(vocabulary=VOCAB, output_mode="count")
    np.testing.assert_array_equal(count(data), [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    padded = ff.layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot", max_tokens=8,
                                    pad_to_max_tokens=True)
    assert padded(data).shape == (2, 8)
    # In the encoded modes the mask token has no index and is dropped.
    masked = ff.layers.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")
    assert masked.vocabulary_size() == 5
    np.testing.assert_array_equal(masked(np.array([["", "a"]])), [[0, 1, 0, 0, 0]])
    with pytest.raises(ValueError, match="tf_idf"):
        ff.layers.StringLookup(output_mode="tf_idf")


def test_integer_lookup_keras_examples():
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    layer = ff.layers.IntegerLookup(vocabulary=vocab)
    np.testing.assert_array_equal(layer(data), [[1, 3, 4], [4, 0, 2]])
    assert layer.get_vocabulary() == [-1, 12, 36, 1138, 42]
    adapted = ff.layers.IntegerLookup()
    adapted.adapt(data)
    # 42 twice, then the rest by value, highest first
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    masked = ff.layers.IntegerLookup(vocabulary=vocab, mask_token=0)
    np.testing.assert_array_equal(masked(np.array([[12, 1138, 42], [42, 0, 36]])),
                                  [[2, 4, 5], [5, 0, 3]])
    inverse = ff.layers.IntegerLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(inverse(np.array([[1, 3, 4], [4, 0, 2]])),
                                  [[12, 1138, 42], [42, -1, 36]])
    with pytest.raises(TypeError, match="float64"):
        layer(np.array([12.0, 36.0]))


def test_adapt_from_dataset_generator_and_steps():
    ds = ff.data.Dataset.from_tensor_slices(
        (np.array(["b", "a", "b", "c", "b", "a"]), np.arange(6))).batch(2)
    layer = ff.layers.StringLookup()
    layer.adapt(ds)  # (x, y) elements: x is counted
    assert layer.get_vocabulary() == ["[UNK]", "b", "a", "c"]
    first_two = ff.layers.StringLookup()
    first_two.adapt(ds, steps=1)  # only ["b", "a"]
    assert first_two.get_vocabulary() == ["[UNK]", "b", "a"]
    column = ff.data.Dataset.from_tensor_slices({"k": np.array([3, 3, 5])}).batch(2)
    ints = ff.layers.IntegerLookup()
    ints.adapt(column.map(lambda x: x["k"]))
    assert ints.get_vocabulary() == [-1, 3, 5]
    gen = ff.layers.StringLookup()
    gen.adapt(np.array(b) for b in (["q", "r"], ["r"]))
    assert gen.get_vocabulary() == ["[UNK]", "r", "q"]


def test_vocabulary_file_and_special_tokens_at_start(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\n")
    layer = ff.layers.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    # A vocabulary that already starts with the special tokens (get_vocabulary's output).
    again = ff.layers.StringLookup(vocabulary=layer.get_vocabulary())
    assert again.get_vocabulary() == layer.get_vocabulary()


def test_a_layer_from_a_vocabulary_file_configures_with_the_terms(tmp_path):
    # get_config() holds the terms, never the path: the config (and a saved model) is data.
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\n")
    for layer in (ff.layers.StringLookup(vocabulary=str(path)),
                  ff.layers.StringLookup(vocabulary=path)):  # os.PathLike too
        assert layer.get_config()["vocabulary"] == ["a", "b", "c"]
    ints = tmp_path / "ints.txt"
    ints.write_text("7\n9\n")
    config = ff.layers.IntegerLookup(vocabulary=str(ints)).get_config()
    assert config["vocabulary"] == [7, 9]
    path.unlink()
    ints.unlink()
    clone = ff.layers.StringLookup.from_config(layer.get_config())  # no file needed any more
    np.testing.assert_array_equal(clone(np.array(["c", "a", "q"])), [3, 1, 0])


@pytest.mark.parametrize("kind", ["StringLookup", "IntegerLookup"])
def test_from_config_refuses_a_vocabulary_path(tmp_path, kind):
    # A config may come from a model file: its vocabulary is data, a string is never opened.
    path = tmp_path / "vocab.txt"
    path.write_text("1\n2\n")
    cls = getattr(ff.layers, kind)
    config = cls(vocabulary=str(path)).get_config()
    for value in (str(path), str(tmp_path / "missing.txt"), "/dev/zero"):
        with pytest.raises(ValueError, match=f'{kind} "{config["name"]}": a saved config holds '
                                             "its vocabulary as a list of terms, not a file path"):
            cls.from_config({**config, "vocabulary": value})
    # the user's own call still reads the file (Keras behaviour)
    assert cls(vocabulary=str(path)).vocabulary_size() == 3


def test_strict_errors():
    with pytest.raises(ValueError, match="repeated term 'a'"):
        ff.layers.StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="mask token"):
        ff.layers.StringLookup(vocabulary=["a", ""], mask_token="")
    layer = ff.layers.StringLookup(vocabulary=VOCAB)
    with pytest.raises(ValueError, match="Cannot adapt"):
        layer.adapt(DATA)
    with pytest.raises(TypeError, match="StringLookup.*takes strings"):
        layer(np.array([1, 2]))
    with pytest.raises(ValueError, match="no vocabulary"):
        ff.layers.StringLookup()(DATA)
    with pytest.raises(ValueError, match="sparse"):
        ff.layers.StringLookup(sparse=True)


def test_config_round_trip_keeps_the_vocabulary():
    layer = ff.layers.StringLookup(max_tokens=10, mask_token="", output_mode="int")
    layer.adapt(np.array(["x", "y", "y"]))
    config = layer.get_config()
    assert config["vocabulary"] == ["y", "x"]
    assert config["max_tokens"] == 10 and config["mask_token"] == ""
    clone = ff.layers.StringLookup.from_config(config)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(clone(np.array(["y", "", "w"])), [2, 0, 1])
    ints = ff.layers.IntegerLookup(vocabulary=[7, 9], output_mode="one_hot")
    clone = ff.layers.IntegerLookup.from_config(ints.get_config())
    np.testing.assert_array_equal(clone(np.array([9])), [[0, 0, 1]])


def test_unicode_and_bytes_columns_look_up_alike():
    layer = ff.layers.StringLookup(vocabulary=["café", "naïve", "日本", "𝔘"])
    fixed = np.array(["日本", "café", "𝔘", "cafe"])  # NumPy's fixed-width UCS-4 strings
    objects = fixed.astype(object)  # what pandas columns hold
    encoded = np.array([s.encode("utf-8") for s in fixed])  # fixed-width bytes
    expected = [3, 1, 4, 0]
    for column in (fixed, objects, encoded):
        np.testing.assert_array_equal(layer(column), expected)
    with pytest.raises(TypeError, match="only str or bytes.*int.*flat position 1"):
        layer(np.array(["café", 3], dtype=object))
