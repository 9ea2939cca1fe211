//! Helpers shared by the tests.

use std::path::PathBuf;

use serde_json::Value;

/// Loads a JSON file from `tests/fixtures`.
pub fn load_fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not valid JSON: {error}", path.display()))
}

/// Returns a string member of a JSON object, failing the test when it is absent.
pub fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("fixture member {key:?} is not a string: {value}"))
}

/// Returns a boolean member of a JSON object, failing the test when it is absent.
pub fn flag(value: &Value, key: &str) -> bool {
    value[key]
        .as_bool()
        .unwrap_or_else(|| panic!("fixture member {key:?} is not a boolean: {value}"))
}

/// Returns an integer member of a JSON object, failing the test when it is absent.
pub fn integer(value: &Value, key: &str) -> i64 {
    value[key]
        .as_i64()
        .unwrap_or_else(|| panic!("fixture member {key:?} is not an integer: {value}"))
}

/// Returns `bytes` with the byte at `index` changed to another value.
pub fn flip_byte(bytes: &[u8], index: usize) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    changed[index] ^= 0x01;
    changed
}
