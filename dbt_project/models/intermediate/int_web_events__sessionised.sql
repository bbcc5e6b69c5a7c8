-- One row per web event that belongs to a session, with its session (METRICS.md, Web
-- sessions): events sharing a client sessionId, else per person with a new session after
-- 30 minutes or more of inactivity; no session lasts over 24 hours.
--
-- Incremental (DESIGN.md: recompute touched entities): the events int_events__identified
-- rewrote since this model's last run touch their partition (client session, or person)
-- and the partition they were in before (a new identify moves events between people). A
-- client session, and a partition that lost events, is recomputed whole; a person's
-- partition from the start of the earliest session a touched event can join (the one that
-- ended less than the session timeout before it), which stays a session start: its
-- earlier sessions cannot change. The recomputed events replace their rows by event_id;
-- `previous_session_ids` keeps the ids they had, so int_web_sessions can drop sessions
-- that no longer exist. A full build is the same SQL with every partition recomputed.
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['partition_key', 'occurred_at']},
            {'columns': ['refreshed_load_id']},
            {'columns': ['session_id']},
        ],
    )
}}

{#- the partition: the client session, else the person #}
{%- set partition_key -%}
    case
        when events.client_session_id is not null then 'sid:' || events.client_session_id
        else 'usr:' || events.user_key
    end
{%- endset %}

with recursive

-- stamps the rows this run writes (what int_web_sessions takes as changed)
run_stamp as materialized (
    select {{ run_stamp() }} as refreshed_load_id
),

all_partitioned as not materialized (
    select
        events.*,
        {{ partition_key }} as partition_key
    from {{ ref('int_events__modelled') }} as events
    where
        events.channel = 'web'
        and (events.client_session_id is not null or events.user_key is not null)
),

{% if is_incremental() %}
    changed as materialized (
        select
            events.event_id,
            {{ partition_key }} as partition_key,
            events.occurred_at
        from {{ ref('int_events__modelled') }} as events
        where
            {{ changed_since_last_run('events') }}
            and events.channel = 'web'
            and (events.client_session_id is not null or events.user_key is not null)
    ),

    -- each touched partition and its earliest changed event
    changed_partitions as (
        select
            changed.partition_key,
            min(changed.occurred_at) as changed_from
        from changed
        group by changed.partition_key
    ),

    touched_partitions as (
        -- where the changed events are now: from the session they can join onwards. One
        -- look-up per person, from the earliest changed event (its window holds every later
        -- event's), and none for a client session (recomputed whole): a look-up per changed
        -- event cost 21 k index scans an hour.
        select
            changed_partitions.partition_key,
            case
                when changed_partitions.partition_key like 'sid:%' then '-infinity'::timestamptz
                else least(changed_partitions.changed_from, earlier.session_started_at)
            end as recompute_from
        from changed_partitions
        left join lateral (
            select min(previous.session_started_at) as session_started_at
            from {{ this }} as previous
            where
                changed_partitions.partition_key not like 'sid:%'
                and previous.partition_key = changed_partitions.partition_key
                and previous.occurred_at >= changed_partitions.changed_from
                - interval '{{ var("session_timeout_minutes") }} minutes'
        ) as earlier on true
        union all
        -- where they were before, when that differs: recomputed whole
        select
            previous.partition_key,
            '-infinity'::timestamptz as recompute_from
        from {{ this }} as previous
        inner join changed
            on
                previous.event_id = changed.event_id
                and previous.partition_key <> changed.partition_key
    ),

    scope as materialized (
        select
            {{ dbt.split_part('touched_partitions.partition_key', "':'", 1) }} as kind,
            substr(touched_partitions.partition_key, 5) as partition_value,
            min(touched_partitions.recompute_from) as recompute_from
        from touched_partitions
        group by touched_partitions.partition_key
    ),

    -- the events of the touched partitions, found by their columns (indexed)
    partitioned as materialized (
        select all_partitioned.*
        from all_partitioned
        inner join scope
            on
                scope.kind = 'sid'
                and all_partitioned.client_session_id = scope.partition_value
                and all_partitioned.occurred_at >= scope.recompute_from
        union all
        select all_partitioned.*
        from all_partitioned
        inner join scope
            on
                scope.kind = 'usr'
                and all_partitioned.client_session_id is null
                and all_partitioned.user_key = scope.partition_value
                and all_partitioned.occurred_at >= scope.recompute_from
    ),

{% else %}
    partitioned as (
        select * from all_partitioned
    ),

{% endif %}

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
        sessionised_events.*,
        first_value(sessionised_events.event_id) over (
            partition by sessionised_events.partition_key, sessionised_events.session_started_at
            order by sessionised_events.occurred_at, sessionised_events.event_id
        ) as first_event_id,
        -- every session id the event had before, as a JSON array (all earlier runs, so
        -- that a run that failed before int_web_sessions consumed them loses none)
        {% if is_incremental() -%}
            (
                select coalesce(jsonb_agg(distinct ids.session_id), '[]'::jsonb)
                from jsonb_array_elements_text(
                    coalesce(previous.previous_session_ids, '[]'::jsonb)
                    || coalesce(to_jsonb(previous.session_id), '[]'::jsonb)
                ) as ids (session_id)
            )
        {%- else -%}
            '[]'::jsonb
        {%- endif %} as previous_session_ids
    from sessionised_events
    {% if is_incremental() -%}
        left join {{ this }} as previous on sessionised_events.event_id = previous.event_id
    {%- endif %}
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
        load_id,
        partition_key,
        (select run_stamp.refreshed_load_id from run_stamp) as refreshed_load_id,
        previous_session_ids
    from sessionised
)

select * from final
