//! The names of the headers HubSpot stamps on its answers, in one place.

use axum::http::HeaderName;

/// HubSpot's id for a request, on every answer.
pub(crate) const CORRELATION_ID: HeaderName =
    HeaderName::from_static(hubspot_projects_api::headers::CORRELATION_ID);

/// The rate-limit headers, sent when a budget is configured.
pub(crate) mod rate_limit {
    use axum::http::HeaderName;
    use hubspot_projects_api::headers;

    /// Requests allowed per rolling window.
    pub(crate) const MAX: HeaderName = HeaderName::from_static(headers::RATE_LIMIT_MAX);
    /// Requests left in the rolling window.
    pub(crate) const REMAINING: HeaderName = HeaderName::from_static(headers::RATE_LIMIT_REMAINING);
    /// The rolling window's length.
    pub(crate) const INTERVAL_MILLISECONDS: HeaderName =
        HeaderName::from_static(headers::RATE_LIMIT_INTERVAL_MILLISECONDS);
    /// Requests allowed per day.
    pub(crate) const DAILY: HeaderName = HeaderName::from_static(headers::RATE_LIMIT_DAILY);
    /// Requests left today.
    pub(crate) const DAILY_REMAINING: HeaderName =
        HeaderName::from_static(headers::RATE_LIMIT_DAILY_REMAINING);
}
