//! ApiVersions (key 18): the versions of every implemented API.

use super::{RequestError, ResponseError, decode, respond, respond_at, supported, supported_apis};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};

/// Answers ApiVersions. A version this broker does not know is answered at v0 with
/// `UNSUPPORTED_VERSION` and ApiVersions' own range, so the client can retry with a version in
/// it (Kafka's `ApiVersionsRequest.getErrorResponse`, KIP-511).
pub(crate) fn handle(header: &RequestHeader, body: &mut Bytes) -> Result<BytesMut, RequestError> {
    let key = ApiKey::ApiVersions;
    let version = header.request_api_version;
    let range = supported(key).unwrap_or(key.valid_versions());
    if !(range.min..=range.max).contains(&version) {
        let response = ApiVersionsResponse::default()
            .with_error_code(ResponseError::UnsupportedVersion.code())
            .with_api_keys(vec![
                ApiVersion::default()
                    .with_api_key(key as i16)
                    .with_min_version(range.min)
                    .with_max_version(range.max),
            ]);
        return respond_at(key, header.correlation_id, 0, &response);
    }
    let _request: ApiVersionsRequest = decode(key, header, body)?;
    let api_keys = supported_apis()
        .into_iter()
        .map(|(k, r)| {
            ApiVersion::default()
                .with_api_key(k as i16)
                .with_min_version(r.min)
                .with_max_version(r.max)
        })
        .collect();
    respond(
        key,
        header,
        &ApiVersionsResponse::default().with_api_keys(api_keys),
    )
}
