//! The DynamoDB answer parsers on arbitrary bytes, as if the endpoint had
//! answered with them: the JSON error body (`__type`, `message`), the
//! typed answers (DescribeTable, CreateTable, GetItem, UpdateItem, a Query
//! or Scan page) and the items in them as the team ledger (records,
//! revisions) and the revocation lease decode them. Each reads or refuses
//! with a short message, never panics; a record read has a token id.
//! Seeded with the answers in fixtures/aws/dynamodb-*.json.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    handoff::aws::fuzzing::parse_dynamodb(data);
});
