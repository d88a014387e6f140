//! The one schema for both backends, kept by hand in step with
//! `migrations/{sqlite,postgres}/` (every repository test runs on both).

diesel::table! {
    mentors (user_id) {
        user_id -> Text,
        org_id -> Text,
        status -> Text,
        pause_reason -> Nullable<Text>,
        pause_since -> Nullable<BigInt>,
        pause_until -> Nullable<BigInt>,
        last_active_at -> Nullable<BigInt>,
        sessions_count -> BigInt,
        first_session_at -> Nullable<BigInt>,
        pref_all -> Bool,
        pref_inactivity -> Bool,
        pref_milestone -> Bool,
        pref_certification_expiry -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    certifications (user_id, certification_id) {
        user_id -> Text,
        certification_id -> Text,
        name -> Text,
        issued_at -> Nullable<BigInt>,
        expires_at -> BigInt,
        required -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    activity_events (user_id, event_id) {
        user_id -> Text,
        event_id -> Text,
        kind -> Text,
        occurred_at -> BigInt,
        recorded_at -> BigInt,
    }
}

diesel::table! {
    mentor_milestones (user_id, milestone_type) {
        user_id -> Text,
        milestone_type -> Text,
        achieved_at -> BigInt,
    }
}

diesel::table! {
    evaluations (id) {
        id -> Text,
        user_id -> Text,
        scenario_type -> Text,
        should_notify -> Bool,
        evaluated_at -> BigInt,
        evaluation_metadata -> Text,
        reason -> Text,
        reason_code -> Text,
        run_id -> Nullable<Text>,
        dry_run -> Bool,
        batch_index -> Nullable<BigInt>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        org_id -> Text,
        scenario_type -> Text,
        dedupe_key -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        next_attempt_at -> Nullable<BigInt>,
        delivered_at -> Nullable<BigInt>,
        run_id -> Nullable<Text>,
        evaluation_id -> Nullable<Text>,
    }
}

diesel::table! {
    notification_keys (dedupe_key) {
        dedupe_key -> Text,
        user_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        name -> Text,
        cron_expression -> Text,
        timezone -> Text,
        handler -> Text,
        enabled -> Bool,
        params -> Text,
        misfire_deadline_ms -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        next_run_at -> Nullable<BigInt>,
        last_run_at -> Nullable<BigInt>,
        last_run_status -> Nullable<Text>,
        last_run_id -> Nullable<Text>,
    }
}

diesel::table! {
    runs (id) {
        id -> Text,
        job_id -> Nullable<Text>,
        job_name -> Nullable<Text>,
        kind -> Text,
        run_trigger -> Text,
        triggered_by -> Nullable<Text>,
        reason -> Nullable<Text>,
        scheduled_for -> Nullable<BigInt>,
        dry_run -> Bool,
        external -> Bool,
        status -> Text,
        invoked_at -> BigInt,
        completed_at -> Nullable<BigInt>,
        duration_ms -> Nullable<BigInt>,
        users_evaluated -> BigInt,
        notifications_dispatched -> BigInt,
        result_summary -> Nullable<Text>,
        error_message -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<BigInt>,
        lock_key -> Nullable<Text>,
        planned_batches -> Nullable<BigInt>,
        batch_size -> Nullable<BigInt>,
        lease_epoch -> BigInt,
    }
}

diesel::table! {
    run_batches (run_id, batch_index) {
        run_id -> Text,
        batch_index -> BigInt,
        first_user_id -> Text,
        last_user_id -> Text,
        user_count -> BigInt,
        claimed_by -> Nullable<Text>,
        claim_expires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    idempotency_keys (scope, idempotency_key) {
        scope -> Text,
        idempotency_key -> Text,
        request -> Text,
        status_code -> Nullable<Integer>,
        response -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    batch_results (run_id, batch_index) {
        run_id -> Text,
        batch_index -> BigInt,
        user_count -> BigInt,
        notifications_sent -> BigInt,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    markers (name) {
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    row_counts (name, shard) {
        name -> Text,
        shard -> Integer,
        n -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    mentors,
    certifications,
    activity_events,
    mentor_milestones,
    evaluations,
    notifications,
    notification_keys,
    jobs,
    runs,
    batch_results,
    run_batches,
    idempotency_keys,
    markers,
    row_counts,
);
