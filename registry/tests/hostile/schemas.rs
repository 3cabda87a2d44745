//! Hostile schemas from issue 16, shared by the hostile-input tests and the `fanout` example.

#![allow(dead_code)]

/// A JSON Schema whose definitions fan out two ways per level, `levels` deep, ending in `leaf`
/// (about 70 bytes per level): a naive checker walks 2^levels paths.
pub fn json_fanout(levels: usize, leaf: &str) -> String {
    let mut defs = Vec::new();
    for i in 0..levels {
        defs.push(format!(
            r##""d{i}":{{"type":"object","properties":{{"a":{{"$ref":"#/definitions/d{n}"}},"b":{{"$ref":"#/definitions/d{n}"}}}}}}"##,
            n = i + 1
        ));
    }
    defs.push(format!(r#""d{levels}":{{"type":"{leaf}"}}"#));
    format!(
        r##"{{"$ref":"#/definitions/d0","definitions":{{{}}}}}"##,
        defs.join(",")
    )
}

/// An Avro record whose every level refers twice to the next (once defined, once by name),
/// `levels` deep, ending in a field of type `leaf`: a naive checker reports 2^levels messages.
pub fn avro_double_reference(levels: usize, leaf: &str) -> String {
    let mut inner = format!(
        r#"{{"type":"record","name":"R{levels}","fields":[{{"name":"x","type":"{leaf}"}}]}}"#
    );
    for i in (0..levels).rev() {
        inner = format!(
            r#"{{"type":"record","name":"R{i}","fields":[{{"name":"a","type":{inner}}},{{"name":"b","type":"R{n}"}}]}}"#,
            n = i + 1
        );
    }
    inner
}

/// A `.proto` file with an option value nested `depth` deep.
pub fn proto_deep_option(depth: usize) -> String {
    format!(
        "syntax = \"proto3\";\nimport \"google/protobuf/descriptor.proto\";\nextend google.protobuf.MessageOptions {{ M o = 50000; }}\nmessage M {{ M m = 1; }}\nmessage N {{ option (o) = {}{}; }}\n",
        "{ m ".repeat(depth),
        "}".repeat(depth)
    )
}

/// A `.proto` file whose messages nest `depth` deep.
pub fn proto_deep_messages(depth: usize) -> String {
    format!(
        "syntax = \"proto3\";\n{}{}",
        "message M { ".repeat(depth),
        "}".repeat(depth)
    )
}
