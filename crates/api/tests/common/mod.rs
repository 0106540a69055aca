//! Calls the generated method a descriptor names, so that tests take paths and versions from the
//! contract. A descriptor without an arm here fails the test that meets it: add the arm.

#![allow(dead_code)]

use hubspot_projects_api::{ByteStream, Client, Error, Operation, ResponseValue, oauth, types};

/// The projects client's answer to a batch upsert.
pub type BatchAnswer = Result<
    ResponseValue<types::BatchResponseSimplePublicUpsertObjectWithErrors>,
    Error<ByteStream>,
>;

/// Calls the batch upsert method `operation` names.
pub async fn batch_upsert(
    client: &Client,
    operation: &Operation,
    body: &types::BatchInputSimplePublicObjectBatchInputUpsert,
) -> BatchAnswer {
    match operation.method_name {
        "batch_upsert_v3" => client.batch_upsert_v3(body).await,
        "batch_upsert_2026_03" => client.batch_upsert_2026_03(body).await,
        "batch_upsert_2026_09" => client.batch_upsert_2026_09(body).await,
        other => panic!("no call for the generated method {other}: add it to tests/common"),
    }
}

/// The OAuth client's answer to a token request.
pub type TokenAnswer =
    Result<ResponseValue<oauth::types::TokenResponseIf>, oauth::Error<oauth::ByteStream>>;

/// Calls the token method `operation` names.
pub async fn token(
    client: &oauth::Client,
    operation: &Operation,
    body: &oauth::types::TokenRequest,
) -> TokenAnswer {
    match operation.method_name {
        "token_v1" => client.token_v1(body).await,
        "token_v3" => client.token_v3(body).await,
        "token_2026_03" => client.token_2026_03(body).await,
        other => panic!("no call for the generated method {other}: add it to tests/common"),
    }
}
