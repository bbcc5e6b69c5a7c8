-- Volume by hour and the country breakdown add up to each day's messages, and new contacts
-- by country to the day's new contacts. Fails with the days that differ.
{{ config(meta={"dagster": {"ref": {"name": "whatsapp_volume_hourly"}}}) }}
{{ reconcile(
    left="select activity_date, messages_received, messages_sent, new_contacts,
        messages_received as hourly_received, messages_sent as hourly_sent
        from " ~ ref('whatsapp_stats_daily'),
    right="select coalesce(countries.activity_date, hours.activity_date) as activity_date,
        countries.messages_received, countries.messages_sent, countries.new_contacts,
        hours.hourly_received, hours.hourly_sent
        from (
            select activity_date, sum(messages_received) as messages_received,
                sum(messages_sent) as messages_sent, sum(new_contacts) as new_contacts
            from " ~ ref('whatsapp_countries_daily') ~ " group by activity_date
        ) as countries
        full outer join (
            select activity_date, sum(messages_received) as hourly_received,
                sum(messages_sent) as hourly_sent
            from " ~ ref('whatsapp_volume_hourly') ~ " group by activity_date
        ) as hours on countries.activity_date = hours.activity_date",
    keys=['activity_date'],
    measures=['messages_received', 'messages_sent', 'new_contacts', 'hourly_received',
        'hourly_sent'],
) }}
