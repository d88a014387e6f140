//! The batch plan of a scenario-evaluation run (docs/runs.md, "The batch
//! plan"): batch index to a `user_id` key range, cut in one streaming pass.

/// One planned batch: the mentors whose `user_id` lies in
/// `first_user_id..=last_user_id` (bytewise), as they were when planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBatch {
    /// From 0, in `user_id` order.
    pub batch_index: i64,
    /// The first `user_id` of the range.
    pub first_user_id: String,
    /// The last `user_id` of the range (inclusive).
    pub last_user_id: String,
    /// Mentors in the range when the plan was made.
    pub user_count: i64,
}

/// Cuts a stream of `user_id`s, in ascending order, into [`PlannedBatch`]es
/// of `batch_size`, holding only the batch being filled: memory does not
/// grow with the number of mentors.
///
/// ```
/// use run_log::BatchPlanner;
/// let mut planner = BatchPlanner::new(2);
/// let mut plan = Vec::new();
/// for id in ["usr_a", "usr_b", "usr_c"] {
///     plan.extend(planner.push(id));
/// }
/// plan.extend(planner.finish());
/// assert_eq!(plan.len(), 2);
/// assert_eq!((plan[0].first_user_id.as_str(), plan[0].last_user_id.as_str()), ("usr_a", "usr_b"));
/// assert_eq!((plan[1].batch_index, plan[1].user_count), (1, 1));
/// ```
#[derive(Debug, Clone)]
pub struct BatchPlanner {
    batch_size: i64,
    next_index: i64,
    open: Option<PlannedBatch>,
}

impl BatchPlanner {
    /// A planner of batches of `batch_size` mentors (at least 1).
    pub fn new(batch_size: u32) -> Self {
        Self {
            batch_size: i64::from(batch_size.max(1)),
            next_index: 0,
            open: None,
        }
    }

    /// Adds the next `user_id` (greater than every one before); returns the
    /// batch it completes, if it does.
    pub fn push(&mut self, user_id: &str) -> Option<PlannedBatch> {
        let batch = self.open.get_or_insert_with(|| PlannedBatch {
            batch_index: self.next_index,
            first_user_id: user_id.to_owned(),
            last_user_id: String::new(),
            user_count: 0,
        });
        batch.user_count += 1;
        // Reuses the buffer: no allocation per mentor.
        batch.last_user_id.clear();
        batch.last_user_id.push_str(user_id);
        if batch.user_count < self.batch_size {
            return None;
        }
        self.next_index += 1;
        self.open.take()
    }

    /// Closes the plan: the last, partly filled batch, if there is one.
    pub fn finish(&mut self) -> Option<PlannedBatch> {
        let batch = self.open.take()?;
        self.next_index += 1;
        Some(batch)
    }

    /// How many batches were completed so far.
    pub fn planned(&self) -> i64 {
        self.next_index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(ids: &[&str], size: u32) -> Vec<PlannedBatch> {
        let mut planner = BatchPlanner::new(size);
        let mut out: Vec<PlannedBatch> = ids.iter().filter_map(|id| planner.push(id)).collect();
        out.extend(planner.finish());
        assert_eq!(planner.planned(), out.len() as i64);
        out
    }

    #[test]
    fn no_mentors_plan_no_batches() {
        assert!(plan(&[], 50).is_empty());
    }

    #[test]
    fn full_batches_close_as_they_fill_and_the_rest_closes_at_the_end() {
        let ids: Vec<String> = (0..148).map(|i| format!("usr_{i:03}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let batches = plan(&refs, 50);
        let counts: Vec<i64> = batches.iter().map(|b| b.user_count).collect();
        assert_eq!(counts, [50, 50, 48]);
        assert_eq!(
            batches.iter().map(|b| b.batch_index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(batches[0].first_user_id, "usr_000");
        assert_eq!(batches[0].last_user_id, "usr_049");
        assert_eq!(batches[1].first_user_id, "usr_050");
        assert_eq!(batches[2].last_user_id, "usr_147");
    }

    #[test]
    fn an_exact_multiple_leaves_no_empty_batch() {
        let batches = plan(&["a", "b", "c", "d"], 2);
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].last_user_id, "d");
    }

    #[test]
    fn a_batch_size_of_zero_is_taken_as_one() {
        assert_eq!(plan(&["a", "b"], 0).len(), 2);
    }
}
