-- One row per web event that belongs to a session, with its session (METRICS.md, Web
-- sessions): events sharing a client sessionId, else per person with a new session after
-- 30 minutes or more of inactivity; no session lasts over 24 hours.
with recursive

events as (
    select * from {{ ref('int_events__identified') }}
    where channel = 'web' and (client_session_id is not null or user_key is not null)
),

partitioned as (
    select
        *,
        case
            when client_session_id is not null then 'sid:' || client_session_id
            else 'usr:' || user_key
        end as partition_key
    from events
),

gaps as (
    select
        *,
        case
            when lag(occurred_at) over by_partition is null then 1
            when
                client_session_id is null
                and occurred_at - lag(occurred_at) over by_partition
                >= interval '{{ var("session_timeout_minutes") }} minutes'
                then 1
            else 0
        end as starts_group
    from partitioned
    window by_partition as (partition by partition_key order by occurred_at, event_id)
),

grouped as (
    select
        *,
        sum(starts_group) over (
            partition by partition_key order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as group_number
    from gaps
),

activity_groups as (
    select
        partition_key,
        group_number,
        min(occurred_at) as group_started_at,
        max(occurred_at) as group_ended_at
    from grouped
    group by partition_key, group_number
),

-- Groups of activity longer than the cap are cut: a session starts at the first event more
-- than 24 hours after the current session's start (iteratively: each cut moves the start).
long_group_events as (
    select
        grouped.event_id,
        grouped.partition_key,
        grouped.group_number,
        grouped.occurred_at
    from grouped
    inner join activity_groups
        on
            grouped.partition_key = activity_groups.partition_key
            and grouped.group_number = activity_groups.group_number
    where
        activity_groups.group_ended_at
        > activity_groups.group_started_at + interval '{{ var("session_max_hours") }} hours'
),

capped_session_starts (partition_key, group_number, session_started_at) as (
    select
        activity_groups.partition_key,
        activity_groups.group_number,
        activity_groups.group_started_at
    from activity_groups
    where
        activity_groups.group_ended_at
        > activity_groups.group_started_at + interval '{{ var("session_max_hours") }} hours'
    union all
    select
        capped_session_starts.partition_key,
        capped_session_starts.group_number,
        next_start.occurred_at
    from capped_session_starts
    cross join lateral (
        select long_group_events.occurred_at
        from long_group_events
        where
            long_group_events.partition_key = capped_session_starts.partition_key
            and long_group_events.group_number = capped_session_starts.group_number
            and long_group_events.occurred_at > capped_session_starts.session_started_at
            + interval '{{ var("session_max_hours") }} hours'
        order by long_group_events.occurred_at
        limit 1
    ) as next_start
),

capped_event_starts as (
    select
        long_group_events.event_id,
        max(capped_session_starts.session_started_at) as session_started_at
    from long_group_events
    inner join capped_session_starts
        on
            long_group_events.partition_key = capped_session_starts.partition_key
            and long_group_events.group_number = capped_session_starts.group_number
            and long_group_events.occurred_at >= capped_session_starts.session_started_at
    group by long_group_events.event_id
),

sessionised_events as (
    select
        grouped.*,
        coalesce(
            capped_event_starts.session_started_at, activity_groups.group_started_at
        ) as session_started_at,
        capped_event_starts.session_started_at is not null
        and capped_event_starts.session_started_at
        > activity_groups.group_started_at as is_cut_by_cap
    from grouped
    inner join activity_groups
        on
            grouped.partition_key = activity_groups.partition_key
            and grouped.group_number = activity_groups.group_number
    left join capped_event_starts on grouped.event_id = capped_event_starts.event_id
),

sessionised as (
    select
        *,
        first_value(event_id) over (
            partition by partition_key, session_started_at order by occurred_at, event_id
        ) as first_event_id
    from sessionised_events
),

final as (
    select
        event_id,
        -- Stable keys: the client's sessionId (suffixed when the cap cuts it); otherwise a
        -- hash of the session's first event, which identity stitching does not change.
        case
            when client_session_id is not null and not is_cut_by_cap then client_session_id
            when client_session_id is not null
                then
                    client_session_id || '~'
                    || (extract(epoch from session_started_at) * 1000)::bigint::text
            else 'ses_' || md5(first_event_id)
        end as session_id,
        client_session_id,
        user_key,
        user_id,
        event_name,
        page_path,
        page_title,
        referrer,
        device_type,
        browser,
        os,
        country_code,
        properties,
        is_identified,
        session_started_at,
        occurred_at,
        load_id
    from sessionised
)

select * from final
