-- agent_performance holds every resolution, first response, CSAT and message of each
-- agent once. Fails with the agents whose totals differ.
{{ config(meta={"dagster": {"ref": {"name": "agent_performance"}}}) }}
{{ reconcile(
    left="select agent_id, sum(chats_resolved) as resolved, sum(first_responses) as responses,
        sum(csat_responses) as rated, sum(messages_sent) as sent
        from " ~ ref('agent_performance') ~ " group by agent_id",
    right="select agent_id, sum(resolved) as resolved, sum(responses) as responses,
        sum(rated) as rated, sum(sent) as sent
        from (
            select agent_id, count(*) filter (where status = 'resolved') as resolved,
                count(agent_first_response_seconds) as responses, count(csat_score) as rated,
                0 as sent
            from " ~ ref('fct_conversations') ~ " where agent_id is not null group by agent_id
            union all
            select agent_id, 0, 0, 0, count(*)
            from " ~ ref('fct_whatsapp_messages') ~ "
            where sender_type = 'agent' and agent_id is not null group by agent_id
        ) as totals group by agent_id",
    keys=['agent_id'],
    measures=['resolved', 'responses', 'rated', 'sent'],
) }}
