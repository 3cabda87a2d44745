//! Answers to requests this front end does not implement: `UNSUPPORTED_VERSION`.

use super::{ResponseError, respond_at};
use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::*;

/// The answer to a request of a known API at a version (or of an API) this front end does not
/// implement: the API's response with every field at its default and `UNSUPPORTED_VERSION` as
/// its top-level error code where it has one, encoded at the request's version when
/// `kafka-protocol` knows it; otherwise (a version newer than any known) the response header
/// and the error code alone.
///
/// Kafka itself closes the connection on such a request; a client negotiates versions through
/// ApiVersions and never sends one, so this answer is for clients that skip the negotiation.
pub(crate) fn response(key: ApiKey, header: &RequestHeader) -> BytesMut {
    let (id, version) = (header.correlation_id, header.request_api_version);
    let code = ResponseError::UnsupportedVersion.code();
    macro_rules! answer {
        (with_error: [$($wk:ident => $wt:ident,)*] without_error: [$($ok:ident => $ot:ident,)*]) => {
            match key {
                $(ApiKey::$wk => respond_at(key, id, version, &$wt::default().with_error_code(code)),)*
                $(ApiKey::$ok => respond_at(key, id, version, &$ot::default()),)*
                #[allow(unreachable_patterns)]
                _ => return minimal(id, key.response_header_version(version)),
            }
        };
    }
    let encoded = answer! {
        with_error: [
        Fetch => FetchResponse,
        Metadata => MetadataResponse,
        OffsetFetch => OffsetFetchResponse,
        FindCoordinator => FindCoordinatorResponse,
        JoinGroup => JoinGroupResponse,
        Heartbeat => HeartbeatResponse,
        LeaveGroup => LeaveGroupResponse,
        SyncGroup => SyncGroupResponse,
        ListGroups => ListGroupsResponse,
        SaslHandshake => SaslHandshakeResponse,
        ApiVersions => ApiVersionsResponse,
        InitProducerId => InitProducerIdResponse,
        AddPartitionsToTxn => AddPartitionsToTxnResponse,
        AddOffsetsToTxn => AddOffsetsToTxnResponse,
        EndTxn => EndTxnResponse,
        DescribeAcls => DescribeAclsResponse,
        DescribeLogDirs => DescribeLogDirsResponse,
        SaslAuthenticate => SaslAuthenticateResponse,
        CreateDelegationToken => CreateDelegationTokenResponse,
        RenewDelegationToken => RenewDelegationTokenResponse,
        ExpireDelegationToken => ExpireDelegationTokenResponse,
        DescribeDelegationToken => DescribeDelegationTokenResponse,
        ElectLeaders => ElectLeadersResponse,
        AlterPartitionReassignments => AlterPartitionReassignmentsResponse,
        ListPartitionReassignments => ListPartitionReassignmentsResponse,
        OffsetDelete => OffsetDeleteResponse,
        DescribeClientQuotas => DescribeClientQuotasResponse,
        DescribeUserScramCredentials => DescribeUserScramCredentialsResponse,
        Vote => VoteResponse,
        BeginQuorumEpoch => BeginQuorumEpochResponse,
        EndQuorumEpoch => EndQuorumEpochResponse,
        DescribeQuorum => DescribeQuorumResponse,
        AlterPartition => AlterPartitionResponse,
        UpdateFeatures => UpdateFeaturesResponse,
        Envelope => EnvelopeResponse,
        FetchSnapshot => FetchSnapshotResponse,
        DescribeCluster => DescribeClusterResponse,
        BrokerRegistration => BrokerRegistrationResponse,
        BrokerHeartbeat => BrokerHeartbeatResponse,
        UnregisterBroker => UnregisterBrokerResponse,
        ListTransactions => ListTransactionsResponse,
        AllocateProducerIds => AllocateProducerIdsResponse,
        ConsumerGroupHeartbeat => ConsumerGroupHeartbeatResponse,
        ControllerRegistration => ControllerRegistrationResponse,
        GetTelemetrySubscriptions => GetTelemetrySubscriptionsResponse,
        PushTelemetry => PushTelemetryResponse,
        AssignReplicasToDirs => AssignReplicasToDirsResponse,
        ListConfigResources => ListConfigResourcesResponse,
        ShareGroupHeartbeat => ShareGroupHeartbeatResponse,
        ShareFetch => ShareFetchResponse,
        ShareAcknowledge => ShareAcknowledgeResponse,
        AddRaftVoter => AddRaftVoterResponse,
        RemoveRaftVoter => RemoveRaftVoterResponse,
        UpdateRaftVoter => UpdateRaftVoterResponse,
        AlterShareGroupOffsets => AlterShareGroupOffsetsResponse,
        DeleteShareGroupOffsets => DeleteShareGroupOffsetsResponse,
        ]
        without_error: [
        Produce => ProduceResponse,
        ListOffsets => ListOffsetsResponse,
        OffsetCommit => OffsetCommitResponse,
        DescribeGroups => DescribeGroupsResponse,
        CreateTopics => CreateTopicsResponse,
        DeleteTopics => DeleteTopicsResponse,
        DeleteRecords => DeleteRecordsResponse,
        OffsetForLeaderEpoch => OffsetForLeaderEpochResponse,
        WriteTxnMarkers => WriteTxnMarkersResponse,
        TxnOffsetCommit => TxnOffsetCommitResponse,
        CreateAcls => CreateAclsResponse,
        DeleteAcls => DeleteAclsResponse,
        DescribeConfigs => DescribeConfigsResponse,
        AlterConfigs => AlterConfigsResponse,
        AlterReplicaLogDirs => AlterReplicaLogDirsResponse,
        CreatePartitions => CreatePartitionsResponse,
        DeleteGroups => DeleteGroupsResponse,
        IncrementalAlterConfigs => IncrementalAlterConfigsResponse,
        AlterClientQuotas => AlterClientQuotasResponse,
        AlterUserScramCredentials => AlterUserScramCredentialsResponse,
        DescribeProducers => DescribeProducersResponse,
        DescribeTransactions => DescribeTransactionsResponse,
        ConsumerGroupDescribe => ConsumerGroupDescribeResponse,
        DescribeTopicPartitions => DescribeTopicPartitionsResponse,
        ShareGroupDescribe => ShareGroupDescribeResponse,
        InitializeShareGroupState => InitializeShareGroupStateResponse,
        ReadShareGroupState => ReadShareGroupStateResponse,
        WriteShareGroupState => WriteShareGroupStateResponse,
        DeleteShareGroupState => DeleteShareGroupStateResponse,
        ReadShareGroupStateSummary => ReadShareGroupStateSummaryResponse,
        DescribeShareGroupOffsets => DescribeShareGroupOffsetsResponse,
        ]
    };
    encoded.unwrap_or_else(|_| minimal(id, key.response_header_version(version)))
}

/// The answer to an API key Kafka does not have: a v0 response header and `UNSUPPORTED_VERSION`.
pub(crate) fn unknown_key(correlation_id: i32) -> BytesMut {
    minimal(correlation_id, 0)
}

/// A response header (at `header_version`) followed by `UNSUPPORTED_VERSION` as an `int16`.
fn minimal(correlation_id: i32, header_version: i16) -> BytesMut {
    let mut buf = BytesMut::with_capacity(11);
    let size = if header_version >= 1 { 7 } else { 6 };
    buf.put_i32(size);
    buf.put_i32(correlation_id);
    if header_version >= 1 {
        // no tagged fields
        buf.put_u8(0);
    }
    buf.put_i16(ResponseError::UnsupportedVersion.code());
    buf
}
