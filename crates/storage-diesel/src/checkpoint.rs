//! Background WAL checkpoints for SQLite.
//!
//! In WAL mode every commit appends pages to the `-wal` file, and a
//! checkpoint copies them back into the database file (and fsyncs it).
//! SQLite's automatic checkpoint runs inside the commit that crosses
//! `wal_autocheckpoint`, on the committing thread: during a run over
//! 100,000 mentors that was about 2.4 s of a 12.4 s run spent waiting in
//! commits (docs/benchmarks.md). A [`Checkpointer`] does that work on a
//! thread of its own, with its own connection, after the big writers
//! (batches, bulk inserts) ask for it: a `PASSIVE` checkpoint never blocks
//! readers or writers. The automatic checkpoint stays as a backstop for
//! the many small writes that do not ask.
//!
//! An idle service has nothing to checkpoint and the thread sleeps on a
//! condition variable: no polling.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

/// Least time between two background checkpoints: each one fsyncs the
/// database file, so one per commit would cost more than it saves.
const MIN_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Default)]
struct State {
    /// Commits since the last checkpoint began.
    pending: u64,
    /// Checkpoints done (tests read it).
    done: u64,
    stop: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// The checkpoint thread of one SQLite database; stops when dropped.
pub(crate) struct Checkpointer {
    shared: Shared,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with its own connection to `path`.
    pub(crate) fn start(path: &Path) -> Result<Self, diesel::ConnectionError> {
        let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
        conn.batch_execute("PRAGMA busy_timeout = 5000;")
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        let shared: Shared = Arc::default();
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&theirs, &mut conn))
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Says that a large write committed: a checkpoint is due soon.
    pub(crate) fn committed(&self) {
        let (lock, wake) = &*self.shared;
        lock.lock().unwrap_or_else(PoisonError::into_inner).pending += 1;
        wake.notify_one();
    }

    /// How many background checkpoints ran.
    pub(crate) fn done(&self) -> u64 {
        self.shared
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .done
    }
}

fn run(shared: &Shared, conn: &mut SqliteConnection) {
    let (lock, wake) = &**shared;
    loop {
        {
            let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
            while state.pending == 0 && !state.stop {
                state = wake.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            if state.stop {
                return;
            }
            state.pending = 0;
        }
        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::warn!(error = %e, "background WAL checkpoint failed");
        }
        lock.lock().unwrap_or_else(PoisonError::into_inner).done += 1;
        // Let commits accumulate; a stop request still ends the wait at once.
        let state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = wake
            .wait_timeout_while(state, MIN_INTERVAL, |s| !s.stop)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        {
            let (lock, wake) = &*self.shared;
            lock.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
            wake.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
