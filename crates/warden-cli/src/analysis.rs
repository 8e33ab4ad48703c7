//! Which shell analyser the policy engine uses.

use warden_policy::Policy;

/// Install the shell analyser on a freshly loaded policy.
pub fn install(policy: Policy) -> Policy {
    policy
}
