//! Application state, built once in `main` (or a test) and cloned into
//! every worker.

use std::sync::Arc;

use runtime::Runtime;
use storage_diesel::Store;

use crate::access::Tokens;

/// The largest JSON body accepted by default (1 MiB); also the longest line
/// of an import.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// The largest NDJSON import body accepted by default (256 MiB).
pub const DEFAULT_MAX_IMPORT_BYTES: usize = 256 << 20;

/// How much a request may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Largest accepted JSON body, in bytes; also the longest line of an import.
    pub max_body_bytes: usize,
    /// Largest accepted NDJSON import body, in bytes.
    pub max_import_bytes: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_import_bytes: DEFAULT_MAX_IMPORT_BYTES,
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
}

impl AppState {
    /// The state over `runtime`, whose storage is `store`.
    pub fn new(runtime: Arc<Runtime>, store: Store, http: HttpSettings) -> Self {
        Self {
            runtime,
            store,
            http,
        }
    }
}
