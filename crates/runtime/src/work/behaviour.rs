//! [`Behaviour`]: whether a bounded queue drops a new item (`queue.behaviour`, spec §12.1).
//!
//! As in Orkestra, `maxDepth` alone drops nothing: it is the reference the two rules fire
//! against.
//!
//! - **`onThreshold`** fires once the depth is at least `value` % of `maxDepth`; it always
//!   drops (when its conditions hold).
//! - **`onLimit`** fires once the depth reaches `maxDepth`; it drops unless it says
//!   `drop: false` (when its conditions hold).
//!
//! A rule without `when`/`or` drops as soon as it fires; a rule with them drops only when they
//! hold for the item at hand. The conditions are evaluated by the caller (the box's watch,
//! with the gate evaluator: the CR and the event's sentinels), so this module stays pure:
//! the rule carries its conditions as an opaque `C`. Only new items are judged: retries and
//! requeues of items already accepted never are. A dropped item comes back with the next
//! resync.

/// Which rule dropped an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fired {
    /// `onThreshold`: the depth passed its percentage of `maxDepth`.
    Threshold,
    /// `onLimit`: the depth reached `maxDepth`.
    Limit,
}

/// One rule: when it fires, whether it drops, and its conditions (`None`: unconditional).
#[derive(Clone, Debug)]
pub struct Rule<C> {
    drop: bool,
    conditions: Option<C>,
}

impl<C> Rule<C> {
    /// A rule that drops (when `drop`) once it fires and `conditions` (if any) hold.
    pub fn new(drop: bool, conditions: Option<C>) -> Self {
        Self { drop, conditions }
    }
}

/// The `queue.behaviour` of one box, with its conditions of type `C`.
#[derive(Clone, Debug)]
pub struct Behaviour<C> {
    /// `onThreshold`: the percentage of `maxDepth` (1..=100) and its rule.
    on_threshold: Option<(u32, Rule<C>)>,
    on_limit: Option<Rule<C>>,
}

impl<C> Default for Behaviour<C> {
    fn default() -> Self {
        Self {
            on_threshold: None,
            on_limit: None,
        }
    }
}

impl<C> Behaviour<C> {
    /// Adds `onThreshold` at `percent` % of `maxDepth` (clamped to 1..=100); it always drops.
    #[must_use]
    pub fn on_threshold(mut self, percent: u32, conditions: Option<C>) -> Self {
        self.on_threshold = Some((percent.clamp(1, 100), Rule::new(true, conditions)));
        self
    }

    /// Adds `onLimit`.
    #[must_use]
    pub fn on_limit(mut self, rule: Rule<C>) -> Self {
        self.on_limit = Some(rule);
        self
    }

    /// True when no rule is declared: nothing is ever dropped.
    pub fn is_empty(&self) -> bool {
        self.on_threshold.is_none() && self.on_limit.is_none()
    }

    /// Whether a new item is dropped with `depth` items waiting and a limit of `max_depth`
    /// (0: unlimited, nothing fires), and which rule dropped it. `holds` evaluates a rule's
    /// conditions for the item; it is only called for a rule that fired.
    pub fn drops(
        &self,
        depth: usize,
        max_depth: usize,
        mut holds: impl FnMut(&C) -> bool,
    ) -> Option<Fired> {
        if max_depth == 0 {
            return None;
        }
        let mut applies =
            |rule: &Rule<C>| rule.drop && rule.conditions.as_ref().is_none_or(&mut holds);
        if let Some((percent, rule)) = &self.on_threshold {
            let reached =
                depth.saturating_mul(100) >= (*percent as usize).saturating_mul(max_depth);
            if reached && applies(rule) {
                return Some(Fired::Threshold);
            }
        }
        match &self.on_limit {
            Some(rule) if depth >= max_depth && applies(rule) => Some(Fired::Limit),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Conditions stand-in: whether they hold.
    type Holds = bool;

    fn decide(behaviour: &Behaviour<Holds>, depth: usize, max: usize) -> Option<Fired> {
        behaviour.drops(depth, max, |holds| *holds)
    }

    #[test]
    fn without_rules_or_without_a_limit_nothing_is_dropped() {
        let none = Behaviour::<Holds>::default();
        assert!(none.is_empty());
        assert_eq!(
            decide(&none, 1_000, 10),
            None,
            "maxDepth alone drops nothing"
        );
        let limited = Behaviour::default().on_limit(Rule::new(true, None));
        assert_eq!(decide(&limited, 1_000, 0), None, "0 is unlimited");
    }

    #[test]
    fn on_limit_drops_at_max_depth_unless_drop_is_false() {
        let limit = Behaviour::<Holds>::default().on_limit(Rule::new(true, None));
        assert_eq!(decide(&limit, 9, 10), None);
        assert_eq!(decide(&limit, 10, 10), Some(Fired::Limit));
        assert_eq!(decide(&limit, 11, 10), Some(Fired::Limit));
        let off = Behaviour::<Holds>::default().on_limit(Rule::new(false, None));
        assert_eq!(decide(&off, 50, 10), None);
    }

    #[test]
    fn on_threshold_drops_from_its_percentage_of_max_depth() {
        let at_70 = Behaviour::<Holds>::default().on_threshold(70, None);
        assert_eq!(decide(&at_70, 6, 10), None);
        assert_eq!(decide(&at_70, 7, 10), Some(Fired::Threshold));
        // 70 % of 5 is 3.5: the fourth item is the first at or past it.
        assert_eq!(decide(&at_70, 3, 5), None);
        assert_eq!(decide(&at_70, 4, 5), Some(Fired::Threshold));
        let at_100 = Behaviour::<Holds>::default().on_threshold(100, None);
        assert_eq!(decide(&at_100, 9, 10), None);
        assert_eq!(decide(&at_100, 10, 10), Some(Fired::Threshold));
    }

    #[test]
    fn conditions_decide_a_rule_that_fired_and_are_not_asked_otherwise() {
        let holds = Behaviour::default().on_threshold(50, Some(true));
        assert_eq!(decide(&holds, 5, 10), Some(Fired::Threshold));
        let fails = Behaviour::default().on_threshold(50, Some(false));
        assert_eq!(
            decide(&fails, 5, 10),
            None,
            "conditions that fail keep the item"
        );
        let mut asked = 0;
        let below = Behaviour::default().on_threshold(50, Some(true));
        assert_eq!(
            below.drops(4, 10, |_| {
                asked += 1;
                true
            }),
            None
        );
        assert_eq!(asked, 0, "a rule that did not fire evaluates nothing");
    }

    #[test]
    fn past_a_threshold_whose_conditions_fail_the_limit_still_applies() {
        let both = Behaviour::default()
            .on_threshold(50, Some(false))
            .on_limit(Rule::new(true, Some(true)));
        assert_eq!(decide(&both, 7, 10), None);
        assert_eq!(decide(&both, 10, 10), Some(Fired::Limit));
        let neither = Behaviour::default()
            .on_threshold(50, Some(false))
            .on_limit(Rule::new(true, Some(false)));
        assert_eq!(
            decide(&neither, 12, 10),
            None,
            "the queue grows past maxDepth"
        );
    }
}
