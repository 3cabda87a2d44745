//! stub
use super::Resolved;
use crate::RegistryError;
/// x
#[derive(Debug)]
pub struct JsonSchema;
impl JsonSchema {
    /// x
    pub fn parse(_r: Resolved<'_>) -> Result<Self, RegistryError> {
        Ok(JsonSchema)
    }
}
/// x
pub fn can_read(_r: &JsonSchema, _w: &JsonSchema) -> Vec<String> {
    Vec::new()
}
