"""The C++ test names must survive ctest's discovery: catch_discover_tests splits a name at ';'
(and Catch2 treats '[' as a tag), so such a test is registered under a truncated name that
matches nothing and "passes" without running. This guards against that silent skip."""
import pathlib
import re

CPP_TESTS = pathlib.Path(__file__).resolve().parents[1] / "cpp"


def test_no_cpp_test_name_contains_characters_that_ctest_splits_on():
    bad = []
    for path in sorted(CPP_TESTS.rglob("*.cpp")):
        for name in re.findall(r'TEST_CASE\(\s*"([^"]*)"', path.read_text()):
            if any(c in name for c in ";[]"):
                bad.append(f"{path.relative_to(CPP_TESTS)}: {name!r}")
    assert not bad, "rename these tests (no ; [ ] in names):\n" + "\n".join(bad)
