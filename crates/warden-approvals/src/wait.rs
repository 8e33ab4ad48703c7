//! The hook side: ask, then wait for a person.

use std::time::{Duration, Instant};

use crate::model::{ApprovalRequest, NewRequest, Outcome, Scope, Status, DEFAULT_TIMEOUT};
use crate::notify::{self, WebhookConfig};
use crate::store::ApprovalStore;
use crate::ApprovalError;

/// How [`request_and_wait`] waits.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// How long to wait for a decision (default 10 minutes). The hook's own
    /// timeout in the agent's settings must be longer.
    pub timeout: Duration,
    /// How often the store is read while waiting (default 500 ms).
    pub poll_interval: Duration,
    /// Where to announce the waiting request; sent on a background thread.
    pub webhook: Option<WebhookConfig>,
    /// The `warden serve` address that links point to, e.g.
    /// `http://127.0.0.1:8642`.
    pub base_url: Option<String>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: DEFAULT_TIMEOUT,
            poll_interval: Duration::from_millis(500),
            webhook: None,
            base_url: None,
        }
    }
}

/// Asks for approval of one action and blocks until a person decides or the
/// timeout passes.
///
/// - If a session rule ("approve and allow the same for this session")
///   already covers exactly this action, returns `Approved` at once, with
///   the rule and no new request.
/// - Otherwise stores a pending request, fires the webhook (best effort, on
///   its own thread: a slow or dead receiver never delays the answer), and
///   polls the store.
/// - `Denied` and `TimedOut` mean the caller denies, quoting
///   [`Outcome::message`]. Any error also means deny.
pub fn request_and_wait(
    store: &dyn ApprovalStore,
    mut req: NewRequest,
    opts: &WaitOptions,
) -> Result<Outcome, ApprovalError> {
    req.validate()?;
    if opts.timeout.is_zero() {
        return Err(ApprovalError::Invalid(
            "the approval timeout is zero".into(),
        ));
    }
    let hash = req.action_hash();
    if let Some(rule) = store.matching_rule(&req.session_id, &hash)? {
        return Ok(Outcome::Approved {
            request: None,
            by: rule.created_by.clone(),
            reason: rule.reason.clone(),
            scope: Scope::SameForSession,
            rule: Some(rule),
        });
    }
    req.expires_in = opts.timeout;
    let started = Instant::now();
    let created = store.create(req)?;
    if let Some(hook) = &opts.webhook {
        notify::spawn_pending(hook.clone(), &created, opts.base_url.as_deref());
    }
    let deadline = started + opts.timeout;
    let poll = opts.poll_interval.max(Duration::from_millis(10));
    loop {
        let now = Instant::now();
        if now >= deadline {
            let final_state = store.time_out(&created.id)?;
            return outcome_of(store, final_state, started.elapsed());
        }
        std::thread::sleep(poll.min(deadline - now));
        let current = store
            .get(&created.id)?
            .ok_or_else(|| ApprovalError::NotFound {
                id: created.id.clone(),
            })?;
        if !current.status.is_pending() {
            if current.status == Status::TimedOut {
                // Expired in the store's clock: persist it before answering.
                let final_state = store.time_out(&created.id)?;
                return outcome_of(store, final_state, started.elapsed());
            }
            return outcome_of(store, current, started.elapsed());
        }
    }
}

fn outcome_of(
    store: &dyn ApprovalStore,
    request: ApprovalRequest,
    waited: Duration,
) -> Result<Outcome, ApprovalError> {
    match request.status.clone() {
        Status::Approved { by, reason, scope } => {
            let rule = match &request.rule_id {
                Some(rid) => store
                    .session_rules(&request.session_id)?
                    .into_iter()
                    .find(|r| &r.id == rid),
                None => None,
            };
            Ok(Outcome::Approved {
                request: Some(request),
                by,
                reason,
                scope,
                rule,
            })
        }
        Status::Denied { by, reason } => Ok(Outcome::Denied {
            request,
            by,
            reason,
        }),
        Status::TimedOut => Ok(Outcome::TimedOut { request, waited }),
        // Only reachable if time_out() saw a pending row it could not
        // update: fail closed.
        Status::Pending => Ok(Outcome::TimedOut { request, waited }),
    }
}
