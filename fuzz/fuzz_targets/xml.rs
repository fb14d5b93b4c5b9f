//! The STS and EC2 response parsers on arbitrary bytes, as if an endpoint
//! had answered with them: error documents, the three token answers,
//! GetCallerIdentity, the typed EC2 answers and the generic XML-to-JSON
//! reading. Each reads or refuses with a short message, never panics.
//! Seeded with the answers in fixtures/aws (moto's and AWS's documented
//! ones).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    handoff::aws::fuzzing::parse_responses(data);
});
