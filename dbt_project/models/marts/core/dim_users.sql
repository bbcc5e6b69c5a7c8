-- Incremental: the people with an event rewritten since this mart's last run, under their
-- key now and every key those events had before, are deleted (pre-hook) and recomputed
-- from all their events; a key no event has any more stays deleted.
-- (partial index: the cross-channel people seen in a range, newest first, docs/marts.md)
{{ entity_mart('user_key', 'user_key', 'touched_people', [
    {'columns': ['user_key'], 'unique': true},
], post_hooks=["{{ partial_index(['last_seen_at'], 'is_cross_channel') }}"]) }}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    touched as materialized (
        {{ touched_people() }}
    ),

{% endif %}
events as (
    select events.* from {{ ref('int_events__modelled') }} as events
    where
        events.user_key is not null
        and {{ in_scope('events.user_key', 'touched', 'user_key') }}
),

people as (
    select
        user_key,
        max(user_id) as user_id,
        count(*) as event_count,
        count(*) filter (where channel = 'web') as web_event_count,
        count(*) filter (where channel = 'whatsapp') as whatsapp_event_count,
        bool_or(channel = 'web') as has_web,
        bool_or(channel = 'whatsapp') as has_whatsapp,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from events
    group by user_key
),

final as (
    select
        user_key,
        user_id,
        event_count,
        web_event_count,
        whatsapp_event_count,
        user_id is not null as is_identified,
        has_web,
        has_whatsapp,
        has_web and has_whatsapp as is_cross_channel,
        first_seen_at,
        last_seen_at,
        {{ local_date('first_seen_at') }} as first_seen_date,
        {{ run_stamp() }} as refreshed_load_id
    from people
)

select * from final
