//! The names of the headers HubSpot stamps on its answers, in one place.

use axum::http::HeaderName;

/// HubSpot's id for a request, on every answer.
pub(crate) const CORRELATION_ID: HeaderName =
    HeaderName::from_static(hubspot_projects_api::CORRELATION_ID_HEADER);

/// The rate-limit headers, sent when a budget is configured.
pub(crate) mod rate_limit {
    use axum::http::HeaderName;

    /// Requests allowed per rolling window.
    pub(crate) const MAX: HeaderName = HeaderName::from_static("x-hubspot-ratelimit-max");
    /// Requests left in the rolling window.
    pub(crate) const REMAINING: HeaderName =
        HeaderName::from_static("x-hubspot-ratelimit-remaining");
    /// The rolling window's length.
    pub(crate) const INTERVAL_MILLISECONDS: HeaderName =
        HeaderName::from_static("x-hubspot-ratelimit-interval-milliseconds");
    /// Requests allowed per day.
    pub(crate) const DAILY: HeaderName = HeaderName::from_static("x-hubspot-ratelimit-daily");
    /// Requests left today.
    pub(crate) const DAILY_REMAINING: HeaderName =
        HeaderName::from_static("x-hubspot-ratelimit-daily-remaining");
}
