//! Compiles the test `.proto` files with protox (no `protoc`) and generates prost types that also
//! derive `prost_reflect::ReflectMessage`. The same build script, with paths changed, is what a
//! kcodec user copies (see the README).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let oracle = root.join("../../tools/oracle/proto");
    let own = root.join("proto");
    let protos = [
        oracle.join("kcodec/oracle/shapes.proto"),
        oracle.join("kcodec/oracle/order.proto"),
        own.join("kcodec/test/features.proto"),
    ];

    let mut compiler = protox::Compiler::new([&oracle, &own])?;
    compiler.include_imports(true).open_files(&protos)?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("file_descriptor_set.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    let mut config = prost_build::Config::new();
    for message in compiler.descriptor_pool().all_messages() {
        let name = message.full_name();
        config
            .type_attribute(name, "#[derive(::prost_reflect::ReflectMessage)]")
            .type_attribute(
                name,
                format!(r#"#[prost_reflect(message_name = "{name}")]"#),
            )
            .type_attribute(
                name,
                r#"#[prost_reflect(file_descriptor_set_bytes = "crate::FILE_DESCRIPTOR_SET")]"#,
            );
    }
    config.compile_fds(compiler.file_descriptor_set())?;

    println!("cargo:rerun-if-changed={}", oracle.display());
    println!("cargo:rerun-if-changed={}", own.display());
    Ok(())
}
