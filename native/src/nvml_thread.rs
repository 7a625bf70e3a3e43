//! Runs NVML on one helper thread with a timeout: a hung driver costs a caller its timeout, never
//! its thread. While a query that timed out is still stuck in NVML, later callers get that
//! timeout's error at once instead of queueing behind it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::nvml::{Report, Session};

struct Job {
    library: String,
    reply: Arc<Reply>,
}

#[derive(Default)]
struct Reply {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Default)]
enum State {
    #[default]
    Pending,
    Done(Report),
    /// The caller timed out; whoever sees this state last releases the job from `STUCK`.
    Abandoned,
}

/// Jobs whose callers gave up while the NVML thread still owed them an answer, and the error
/// those callers got.
struct Stuck {
    abandoned: usize,
    error: String,
}

static STUCK: Mutex<Stuck> = Mutex::new(Stuck {
    abandoned: 0,
    error: String::new(),
});

/// The NVML thread, started on first use; it lives as long as the process.
static WORKER: OnceLock<Result<Sender<Job>, String>> = OnceLock::new();

/// Poisoning only means another caller panicked mid-update of plain data: carry on.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Queries NVML through `library`, giving up after `timeout_ms`.
pub fn query(library: &str, timeout_ms: f64) -> Report {
    {
        let stuck = lock(&STUCK);
        if stuck.abandoned > 0 {
            return Report::failed(stuck.error.clone());
        }
    }
    let worker = WORKER.get_or_init(|| {
        let (jobs, inbox) = mpsc::channel();
        thread::Builder::new()
            .name("bento-nvml".into())
            .spawn(move || serve(inbox))
            .map(|_| jobs)
            .map_err(|e| format!("cannot start the NVML thread: {e}"))
    });
    let jobs = match worker {
        Ok(jobs) => jobs,
        Err(error) => return Report::failed(error.clone()),
    };
    let reply = Arc::new(Reply::default());
    let job = Job {
        library: library.to_owned(),
        reply: Arc::clone(&reply),
    };
    if jobs.send(job).is_err() {
        return Report::failed("the NVML thread has stopped".into());
    }
    // A timeout too large for the clock waits without a deadline.
    let deadline = Duration::try_from_secs_f64(timeout_ms / 1000.0)
        .ok()
        .and_then(|timeout| Instant::now().checked_add(timeout));
    let mut state = lock(&reply.state);
    loop {
        if let State::Done(_) = *state {
            let State::Done(report) = std::mem::take(&mut *state) else {
                unreachable!()
            };
            return report;
        }
        let now = Instant::now();
        state = match deadline {
            Some(deadline) if now >= deadline => {
                *state = State::Abandoned;
                let error = format!("NVML did not answer within {timeout_ms} ms");
                let mut stuck = lock(&STUCK);
                stuck.abandoned += 1;
                stuck.error.clone_from(&error);
                return Report::failed(error);
            }
            Some(deadline) => {
                let waited = reply.ready.wait_timeout(state, deadline - now);
                waited.unwrap_or_else(PoisonError::into_inner).0
            }
            None => reply
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner),
        };
    }
}

fn serve(inbox: Receiver<Job>) {
    let mut session = Session::default();
    for job in inbox {
        if matches!(*lock(&job.reply.state), State::Abandoned) {
            release();
            continue;
        }
        let report = catch_unwind(AssertUnwindSafe(|| session.query(&job.library)))
            .unwrap_or_else(|_| Report::failed("the NVML query panicked".into()));
        let mut state = lock(&job.reply.state);
        if matches!(*state, State::Abandoned) {
            release();
        } else {
            *state = State::Done(report);
            job.reply.ready.notify_one();
        }
    }
}

fn release() {
    let mut stuck = lock(&STUCK);
    stuck.abandoned -= 1;
}
