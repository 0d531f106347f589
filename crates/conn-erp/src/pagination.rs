//! Pagination styles and the order stream; the rules are on [`Pagination`].

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::str::FromStr;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use conn_core::{Error, Result};

use crate::model::Order;

/// How an ERP pages its lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaginationStyle {
    /// `page_index` (1-based) and `page_size`.
    PageIndex,
    /// `page_no` (0-based) and `page_size`; the answer carries `total_count`.
    PageNo,
    /// `limit_start` (offset) and `limit_page_length` (ERPNext / Frappe).
    LimitStart,
    /// `offset` and `limit`.
    OffsetLimit,
}

impl PaginationStyle {
    /// Every style.
    pub const ALL: [PaginationStyle; 4] = [
        PaginationStyle::PageIndex,
        PaginationStyle::PageNo,
        PaginationStyle::LimitStart,
        PaginationStyle::OffsetLimit,
    ];

    /// The name used in `ERP_PAGINATION`.
    pub fn as_str(self) -> &'static str {
        match self {
            PaginationStyle::PageIndex => "page_index",
            PaginationStyle::PageNo => "page_no",
            PaginationStyle::LimitStart => "limit_start",
            PaginationStyle::OffsetLimit => "offset_limit",
        }
    }

    /// The names of the two parameters: position, size.
    pub fn param_names(self) -> (&'static str, &'static str) {
        match self {
            PaginationStyle::PageIndex => ("page_index", "page_size"),
            PaginationStyle::PageNo => ("page_no", "page_size"),
            PaginationStyle::LimitStart => ("limit_start", "limit_page_length"),
            PaginationStyle::OffsetLimit => ("offset", "limit"),
        }
    }

    /// The query parameters of the 0-based page `page` of size `size`.
    ///
    /// ```
    /// use conn_erp::PaginationStyle;
    /// assert_eq!(PaginationStyle::PageIndex.params(0, 50)[0], ("page_index", "1".to_string()));
    /// assert_eq!(PaginationStyle::LimitStart.params(2, 50)[0], ("limit_start", "100".to_string()));
    /// ```
    pub fn params(self, page: u64, size: u32) -> [(&'static str, String); 2] {
        let (pos_name, size_name) = self.param_names();
        let pos = match self {
            PaginationStyle::PageIndex => page.saturating_add(1),
            PaginationStyle::PageNo => page,
            PaginationStyle::LimitStart | PaginationStyle::OffsetLimit => {
                page.saturating_mul(u64::from(size))
            }
        };
        [(pos_name, pos.to_string()), (size_name, size.to_string())]
    }
}

impl fmt::Display for PaginationStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaginationStyle {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        let s = s.trim().to_ascii_lowercase().replace(['-', '/'], "_");
        match s.as_str() {
            "page_index" | "page_index_page_size" => Ok(Self::PageIndex),
            "page_no" | "page_no_page_size" => Ok(Self::PageNo),
            "limit_start" | "limit_start_limit_page_length" => Ok(Self::LimitStart),
            "offset_limit" | "offset" => Ok(Self::OffsetLimit),
            _ => Err(()),
        }
    }
}

/// Pagination settings.
///
/// Pagination styles and the order stream.
///
/// | style (`ERP_PAGINATION`) | parameters of page *k* (0-based) | stops when |
/// |---|---|---|
/// | `page_index` | `page_index=k+1&page_size=s` (1-based) | empty or short page, or `total` reached |
/// | `page_no` | `page_no=k&page_size=s` (0-based) | `total_count` reached, or empty/short page |
/// | `limit_start` | `limit_start=k·s&limit_page_length=s` (ERPNext) | empty or short page |
/// | `offset_limit` | `offset=k·s&limit=s` | empty or short page, or `total` reached |
///
/// "Total reached" applies to any style whose answer carries a total at the configured pointer
/// (`/total_count` by default). Every order is yielded once: ids already seen (an order that
/// moved to a later page while paging) are skipped, a full page bringing nothing new ends the
/// stream (a server ignoring the paging parameters would otherwise loop), and `max_pages`
/// bounds the walk. ⚠ A server that silently caps the page size below the one asked for looks
/// like a short last page to the styles without a total: keep `page_size` within the ERP's cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pagination {
    /// The style.
    pub style: PaginationStyle,
    /// Orders per page (1–10 000).
    pub page_size: u32,
    /// Most pages one stream fetches.
    pub max_pages: u64,
    /// JSON pointer to the array of orders in a list answer (`/data`; `""` for a bare array).
    pub items_pointer: String,
    /// JSON pointer to the total count, when the ERP sends one (`/total_count`).
    pub total_pointer: String,
}

/// Default orders per page.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Largest page size accepted.
pub const MAX_PAGE_SIZE: u32 = 10_000;

impl Default for Pagination {
    fn default() -> Self {
        Self {
            style: PaginationStyle::PageIndex,
            page_size: DEFAULT_PAGE_SIZE,
            max_pages: 100_000,
            items_pointer: "/data".to_owned(),
            total_pointer: "/total_count".to_owned(),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersPage {
    /// 0-based page number.
    pub page: u64,
    /// The orders on it, in the ERP's order.
    pub orders: Vec<Order>,
    /// The total the ERP reported, if any.
    pub total: Option<u64>,
}

/// Filters and limits of an order listing.
///
/// ```
/// use conn_erp::OrderQuery;
/// let q = OrderQuery::new().filter("status", "paid").limit(10);
/// assert_eq!(q.limit, Some(10));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// Extra query parameters (`status=paid`, `start_date=…`); they may not use the paging
    /// parameter names.
    pub filters: Vec<(String, String)>,
    /// Stop after this many orders.
    pub limit: Option<u64>,
}

impl OrderQuery {
    /// No filter, no limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a filter parameter.
    pub fn filter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.filters.push((name.into(), value.into()));
        self
    }

    /// Stops after `n` orders.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Checks that no filter collides with the paging parameters of `style`.
    pub fn validate(&self, style: PaginationStyle) -> Result<()> {
        let (a, b) = style.param_names();
        for (k, _) in &self.filters {
            if k.is_empty() {
                return Err(Error::validation("filters", "a filter name is empty"));
            }
            if k == a || k == b {
                return Err(Error::validation(
                    format!("filters.{k}"),
                    format!("is a paging parameter of the {style} style; the stream sets it"),
                ));
            }
        }
        Ok(())
    }
}

/// A stream of orders.
pub type OrderStream = BoxStream<'static, Result<Order>>;

/// A walk over the pages: `fetch(page)` asks for one page of the listing.
struct Walk<F> {
    fetch: F,
    pagination: Pagination,
    page: u64,
    fetched: u64,
    seen: HashSet<String>,
    done: bool,
}

/// Whether the walk ends after a page of `n` orders (`fresh` of them new), `fetched` in all.
pub(crate) fn is_last_page(
    n: usize,
    fresh: usize,
    fetched: u64,
    total: Option<u64>,
    page_size: u32,
) -> bool {
    n == 0 || n < page_size as usize || fresh == 0 || total.is_some_and(|t| fetched >= t)
}

/// Every order of a listing, page after page, by `pagination`'s rules; `fetch(page)` asks for
/// one page (0-based). The walk knows the stop rules, not the client: the client hands it the
/// one call that fetches a page.
pub(crate) fn order_stream<F, Fut>(
    pagination: Pagination,
    query: &OrderQuery,
    fetch: F,
) -> OrderStream
where
    F: Fn(u64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<OrdersPage>> + Send,
{
    if let Err(e) = query.validate(pagination.style) {
        return stream::once(async move { Err(e) }).boxed();
    }
    let limit = query.limit;
    let walk = Walk {
        fetch,
        pagination,
        page: 0,
        fetched: 0,
        seen: HashSet::new(),
        done: false,
    };
    let pages = stream::try_unfold(walk, |mut w| async move {
        if w.done || w.page >= w.pagination.max_pages {
            return Ok::<_, Error>(None);
        }
        let page = (w.fetch)(w.page).await?;
        let n = page.orders.len();
        w.fetched += n as u64;
        let fresh: Vec<Order> = page
            .orders
            .into_iter()
            .filter(|o| w.seen.insert(o.id.clone()))
            .collect();
        if is_last_page(
            n,
            fresh.len(),
            w.fetched,
            page.total,
            w.pagination.page_size,
        ) {
            if n > 0 && fresh.is_empty() {
                tracing::warn!(
                    page = w.page,
                    "a full page brought only orders already seen; stopping (does the ERP honour the paging parameters?)"
                );
            }
            w.done = true;
        }
        w.page += 1;
        Ok(Some((fresh, w)))
    });
    let orders = pages
        .map_ok(|v| stream::iter(v.into_iter().map(Ok)))
        .try_flatten();
    match limit {
        Some(n) => orders
            .take(usize::try_from(n).unwrap_or(usize::MAX))
            .boxed(),
        None => orders.boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_per_style() {
        assert_eq!(
            PaginationStyle::PageNo.params(0, 10),
            [
                ("page_no", "0".to_string()),
                ("page_size", "10".to_string())
            ]
        );
        assert_eq!(
            PaginationStyle::OffsetLimit.params(3, 10),
            [("offset", "30".to_string()), ("limit", "10".to_string())]
        );
        for s in PaginationStyle::ALL {
            assert_eq!(s.as_str().parse::<PaginationStyle>(), Ok(s));
        }
    }

    #[test]
    fn stop_conditions() {
        assert!(is_last_page(0, 0, 0, None, 10));
        assert!(is_last_page(9, 9, 19, None, 10));
        assert!(!is_last_page(10, 10, 10, None, 10));
        assert!(is_last_page(10, 10, 20, Some(20), 10));
        assert!(!is_last_page(10, 10, 20, Some(21), 10));
        assert!(is_last_page(10, 0, 20, None, 10));
    }

    #[test]
    fn filters_may_not_use_paging_names() {
        let q = OrderQuery::new().filter("limit", "5");
        let e = q.validate(PaginationStyle::OffsetLimit).unwrap_err();
        assert!(e.to_string().contains("filters.limit"), "{e}");
        q.validate(PaginationStyle::PageIndex).unwrap();
    }
}
