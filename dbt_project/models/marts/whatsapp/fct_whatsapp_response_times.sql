-- One row per response wait (METRICS.md, WhatsApp messages: response time), with its
-- histogram bucket and the reporting-time-zone day and hour it started.
-- Incremental: the waits of every contact with an event, message, conversation or wait
-- rewritten since this mart's last run replace the contact's rows.
-- (an index alone answers a range's response-time percentiles: docs/benchmarks.md)
{{ contact_mart('wait_id', [
    {'columns': ['wait_id'], 'unique': true},
    {'columns': ['contact_key']},
    {'columns': ['wait_date', 'is_answered', 'responder', 'response_seconds']},
]) }}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    touched as materialized (
        {{ touched_contacts() }}
    ),

{% endif %}
waits as (
    select waits.* from {{ ref('int_whatsapp_waits') }} as waits
    where {{ in_scope('waits.contact_key', 'touched') }}
),

final as (
    select
        waits.wait_id,
        waits.contact_key,
        waits.conversation_id,
        waits.first_message_id,
        waits.response_message_id,
        waits.responder,
        waits.responded_at is not null as is_answered,
        waits.is_answered_in_conversation,
        waits.response_seconds,
        buckets.bucket as response_bucket,
        buckets.bucket_order as response_bucket_order,
        waits.waited_from,
        waits.responded_at,
        {{ local_date('waits.waited_from') }} as wait_date,
        {{ local_hour('waits.waited_from') }} as wait_hour,
        {{ run_stamp() }} as refreshed_load_id
    from waits
    left join {{ bucket_relation('response_time_seconds') }}
        on {{ bucket_join('waits.response_seconds') }}
)

select * from final
{{ in_day_order('wait_date') }}
