//! What every port shares: the storage error as the domain sees it, and
//! pages.

/// A storage failure, as the domain sees it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was hit; the name says which (for example `notifications.dedupe_key`).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The backend failed.
    #[error("storage failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A page request: `page` from 1, `limit` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Page number, from 1.
    pub page: u32,
    /// Rows per page.
    pub limit: u32,
}

impl PageRequest {
    /// Rows to skip.
    pub const fn offset(&self) -> u64 {
        (self.page as u64).saturating_sub(1) * self.limit as u64
    }
}

/// One page of results and the total number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    /// The rows of the page.
    pub rows: Vec<T>,
    /// Matches over all pages.
    pub total: u64,
}

/// Result of a write against a mentor that might not exist.
pub type MaybeMentor<T> = Result<Option<T>, StoreError>;
