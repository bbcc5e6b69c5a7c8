-- active_people_daily counts every row of user_activity_daily by its day, channel,
-- is_identified and previous active day (under `all`, by its previous active day on any
-- channel), also after an incremental refresh mended later days. Fails with the groups
-- that differ (no previous day shows as 1900-01-01: the join needs a value).
{{ config(meta={"dagster": {"ref": {"name": "active_people_daily"}}}) }}
{{ reconcile(
    left="select activity_date, channel, is_identified,
            coalesce(previous_active_date, date '1900-01-01') as previous_active_date, people
        from " ~ ref('active_people_daily'),
    right="select activity_date, channel, is_identified,
            coalesce(previous_active_date, date '1900-01-01') as previous_active_date,
            count(*) as people
        from " ~ ref('user_activity_daily') ~ "
        group by activity_date, channel, is_identified, previous_active_date
        union all
        select activity_date, 'all', is_identified,
            coalesce(previous_active_date_any_channel, date '1900-01-01'), count(*)
        from " ~ ref('user_activity_daily') ~ "
        group by activity_date, is_identified, previous_active_date_any_channel",
    keys=['activity_date', 'channel', 'is_identified', 'previous_active_date'],
    measures=['people'],
) }}
