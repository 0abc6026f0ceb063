//! `{"count","next","previous","results"}` pages with `?limit=&offset=` and
//! absolute `next`/`previous` URLs, as Django REST framework builds them.

use drydock_entity::store::PageRequest;
use poem::Request;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::Object;

/// Rows per page when the client does not say.
pub const DEFAULT_LIMIT: u64 = 100;
/// Most rows a client may ask for at once.
pub const MAX_LIMIT: u64 = 1000;
/// Largest offset honoured (larger ones read as this, an empty page): far
/// beyond any table, and small enough that `offset + limit` and the
/// databases' signed 64-bit OFFSET never overflow.
pub const MAX_OFFSET: u64 = 1 << 53;

/// One page of a list.
#[derive(Object)]
pub struct Paginated<T: ParseFromJSON + ToJSON> {
    /// Rows across all pages.
    pub count: u64,
    /// URL of the next page, if any.
    #[oai(nullable)]
    pub next: Option<String>,
    /// URL of the previous page, if any.
    #[oai(nullable)]
    pub previous: Option<String>,
    /// This page's rows.
    pub results: Vec<T>,
}

/// The page a request asks for (bad or missing values fall back to defaults, as DRF does).
pub fn page_request(req: &Request) -> PageRequest {
    let mut limit = DEFAULT_LIMIT;
    let mut offset = 0;
    for (k, v) in url_pairs(req.uri().query().unwrap_or("")) {
        match k {
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|l| *l > 0)
                    .unwrap_or(DEFAULT_LIMIT)
                    .min(MAX_LIMIT)
            }
            "offset" => offset = v.parse::<u64>().unwrap_or(0).min(MAX_OFFSET),
            _ => {}
        }
    }
    PageRequest { offset, limit }
}

fn url_pairs(q: &str) -> impl Iterator<Item = (&str, &str)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Builds the page body with absolute links derived from the request's host.
pub fn paginate<T: ParseFromJSON + ToJSON>(
    req: &Request,
    page: PageRequest,
    total: u64,
    results: Vec<T>,
) -> Paginated<T> {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|s| *s == "https" || *s == "http")
        .unwrap_or("http");
    let path = req.original_uri().path();
    let others: Vec<(&str, &str)> = url_pairs(req.uri().query().unwrap_or(""))
        .filter(|(k, _)| *k != "limit" && *k != "offset")
        .collect();
    let link = |offset: u64| {
        let mut q: Vec<String> = others.iter().map(|(k, v)| format!("{k}={v}")).collect();
        q.push(format!("limit={}", page.limit));
        if offset > 0 {
            q.push(format!("offset={offset}"));
        }
        format!("{scheme}://{host}{path}?{}", q.join("&"))
    };
    let next = (page.offset + page.limit < total).then(|| link(page.offset + page.limit));
    let previous = (page.offset > 0).then(|| link(page.offset.saturating_sub(page.limit)));
    Paginated {
        count: total,
        next,
        previous,
        results,
    }
}
