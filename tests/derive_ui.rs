//! Compile errors of `#[derive(Record)]`, with their spans (trybuild UI tests in tests/ui/).

#[test]
fn compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
