//! Inputs for the property tests of the readers (`fuzz_*` tests beside each parser): arbitrary bytes and text,
//! arbitrary JSON, and near-valid documents (a valid one with one mutation: cut short, a BOM, CRLF line ends,
//! a field's value swapped for one of the wrong type, a huge number, unicode). Test-only. The case count is
//! proptest's (256, or `PROPTEST_CASES`).

use proptest::prelude::*;
use serde_json::Value;

/// Text that readers meet in the wild when something is wrong: quotes, separators, control characters,
/// BOMs, line ends, digits, unicode from every plane.
pub fn wild_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just("\"".to_owned()),
                Just(",".to_owned()),
                Just(";".to_owned()),
                Just("\t".to_owned()),
                Just("\r\n".to_owned()),
                Just("\n".to_owned()),
                Just("\u{feff}".to_owned()),
                Just("(".to_owned()),
                Just(")".to_owned()),
                Just("@".to_owned()),
                Just(".".to_owned()),
                Just("18446744073709551616".to_owned()),
                Just("-1".to_owned()),
                Just("1e308".to_owned()),
                Just("GB".to_owned()),
                Just("bytes".to_owned()),
                Just("\u{1b}[2J".to_owned()),
                Just("Zoë 🦀 ﷽".to_owned()),
                "[a-z0-9]{1,8}".prop_map(|s| s),
            ],
            0..24
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// Any JSON value, a few levels deep.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        wild_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(wild_text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value of the wrong kind for most fields, or an extreme one of the right kind.
pub fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(Value::Bool(true)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1e300)),
        Just(Value::String(String::new())),
        Just(Value::String("18446744073709551616".into())),
        Just(Value::String("/Date(99999999999999999)/".into())),
        Just(Value::String("9999-99-99T99:99:99".into())),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        json_value(),
    ]
}

/// `doc` with one field (of the top-level object, or of an object one level down) set to an odd value or
/// removed. A document that is not an object is returned as it is.
pub fn mutate_json(doc: Value) -> impl Strategy<Value = Value> {
    let paths = json_paths(&doc);
    let count = paths.len().max(1);
    (0..count, odd_value(), any::<bool>()).prop_map(move |(i, odd, remove)| {
        let mut doc = doc.clone();
        if let Some(path) = paths.get(i) {
            set_at(&mut doc, path, odd, remove);
        }
        doc
    })
}

fn json_paths(doc: &Value) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    if let Value::Object(top) = doc {
        for (k, v) in top {
            paths.push(vec![k.clone()]);
            if let Value::Object(inner) = v {
                paths.extend(inner.keys().map(|k2| vec![k.clone(), k2.clone()]));
            }
        }
    }
    paths
}

fn set_at(doc: &mut Value, path: &[String], odd: Value, remove: bool) {
    let (last, parents) = match path.split_last() {
        Some(split) => split,
        None => return,
    };
    let mut at = doc;
    for key in parents {
        match at.get_mut(key) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Value::Object(map) = at {
        if remove {
            map.remove(last);
        } else {
            map.insert(last.clone(), odd);
        }
    }
}

/// How a valid text document is spoiled.
#[derive(Debug, Clone)]
pub enum Spoil {
    /// Cut short after this many bytes (of the document's length, modulo).
    Truncate(usize),
    Bom,
    Crlf,
    /// These bytes put in at this offset (modulo the length).
    Insert(usize, Vec<u8>),
    /// The byte at this offset (modulo) replaced.
    Flip(usize, u8),
    /// The document twice.
    Doubled,
}

pub fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        any::<usize>().prop_map(Spoil::Truncate),
        Just(Spoil::Bom),
        Just(Spoil::Crlf),
        (any::<usize>(), prop_oneof![wild_text().prop_map(String::into_bytes), any::<Vec<u8>>()])
            .prop_map(|(at, bytes)| Spoil::Insert(at, bytes)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Spoil::Flip(at, b)),
        Just(Spoil::Doubled),
    ]
}

/// `doc` spoiled one way. The offsets fall on any byte, so the result may not be UTF-8.
pub fn apply(doc: &[u8], how: &Spoil) -> Vec<u8> {
    let len = doc.len().max(1);
    match how {
        Spoil::Truncate(n) => doc[..n % len].to_vec(),
        Spoil::Bom => [b"\xef\xbb\xbf".as_slice(), doc].concat(),
        Spoil::Crlf => String::from_utf8_lossy(doc).replace('\n', "\r\n").into_bytes(),
        Spoil::Insert(at, bytes) => {
            let at = at % (doc.len() + 1);
            [&doc[..at], bytes.as_slice(), &doc[at..]].concat()
        }
        Spoil::Flip(at, b) => {
            let mut out = doc.to_vec();
            if let Some(slot) = out.get_mut(at % len) {
                *slot = *b;
            }
            out
        }
        Spoil::Doubled => [doc, doc].concat(),
    }
}
