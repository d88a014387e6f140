//! Application state, built once in `main` (or a test) and cloned into
//! every worker: the runtime, the store, the body limits, and the slots of
//! the NDJSON imports in progress.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use runtime::Runtime;
use storage_diesel::Store;

use crate::access::Tokens;
use crate::error::ApiError;

/// The largest JSON body accepted by default (1 MiB); also the longest line
/// of an import.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// The largest NDJSON import body accepted by default (256 MiB).
pub const DEFAULT_MAX_IMPORT_BYTES: usize = 256 << 20;

/// NDJSON imports in progress at once by default.
pub const DEFAULT_MAX_CONCURRENT_IMPORTS: usize = 2;

/// How much requests may send: each, and the imports together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Largest accepted JSON body, in bytes; also the longest line of an import.
    pub max_body_bytes: usize,
    /// Largest accepted NDJSON import body, in bytes.
    pub max_import_bytes: usize,
    /// NDJSON imports in progress at once (each spools up to
    /// `max_import_bytes` and holds a write transaction); one more is a 429.
    pub max_concurrent_imports: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_import_bytes: DEFAULT_MAX_IMPORT_BYTES,
            max_concurrent_imports: DEFAULT_MAX_CONCURRENT_IMPORTS,
        }
    }
}

/// The settings of the HTTP shell itself.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// How much a request may send.
    pub limits: BodyLimits,
    /// Who may call (none configured: everyone).
    pub tokens: Tokens,
}

/// What handlers reach: the runtime (every domain service, jobs and runs),
/// the store (for the readiness check and the pool's figures), and the
/// shell's own settings.
#[derive(Clone)]
pub struct AppState {
    /// Jobs, runs, mentors, evaluations, notifications.
    pub runtime: Arc<Runtime>,
    /// The database, asked by `/readyz` whether it answers and is migrated.
    pub store: Store,
    /// Body limits and tokens.
    pub http: HttpSettings,
    /// The imports in progress, at most `http.limits.max_concurrent_imports`.
    pub imports: Arc<ImportSlots>,
    /// The runs' own database pool, when they have one (`/metrics` reports
    /// both pools).
    pub runs_store: Option<Store>,
}

impl AppState {
    /// The state over `runtime`, whose storage is `store`.
    pub fn new(runtime: Arc<Runtime>, store: Store, http: HttpSettings) -> Self {
        Self {
            runtime,
            store,
            imports: Arc::new(ImportSlots::new(http.limits.max_concurrent_imports)),
            http,
            runs_store: None,
        }
    }

    /// The same state, told of the runs' own pool.
    #[must_use]
    pub fn with_runs_store(self, runs_store: Store) -> Self {
        Self {
            runs_store: Some(runs_store),
            ..self
        }
    }
}

/// The `Retry-After` of an import refused because others are in progress:
/// an import of 100,000 lines takes about 2 s on SQLite once uploaded.
pub const IMPORT_RETRY_AFTER_SECONDS: u64 = 5;

/// The imports in progress over HTTP, at most a fixed number at once: each
/// spools up to `--max-import-bytes` to disk and then holds the one
/// import transaction (on SQLite, the write lock) for its whole file.
#[derive(Debug)]
pub struct ImportSlots {
    limit: usize,
    taken: AtomicUsize,
}

impl ImportSlots {
    /// At most `limit` imports at once.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            taken: AtomicUsize::new(0),
        }
    }

    /// A slot for one import, held until the [`ImportSlot`] is dropped.
    ///
    /// # Errors
    /// [`ApiError::TooManyImports`] when every slot is taken.
    pub fn take(self: &Arc<Self>) -> Result<ImportSlot, ApiError> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .map(|_| ImportSlot(Arc::clone(self)))
            .map_err(|_| ApiError::TooManyImports {
                limit: self.limit,
                retry_after_seconds: IMPORT_RETRY_AFTER_SECONDS,
            })
    }
}

/// One import's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct ImportSlot(Arc<ImportSlots>);

impl Drop for ImportSlot {
    fn drop(&mut self) {
        self.0.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_free_again_once_its_import_ends() {
        let slots = Arc::new(ImportSlots::new(2));
        let a = slots.take().unwrap();
        let b = slots.take().unwrap();
        assert!(matches!(
            slots.take(),
            Err(ApiError::TooManyImports { limit: 2, .. })
        ));
        drop(a);
        let c = slots.take().unwrap();
        assert!(slots.take().is_err());
        drop((b, c));
        assert!(slots.take().is_ok());
    }
}
