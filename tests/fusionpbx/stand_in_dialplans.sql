-- The part of FusionPBX's v_dialplans table the Voice Secretary app writes (column names and types
-- as FusionPBX's app/dialplans/app_config.php declares them). Tests only: created in the test
-- database when absent; on a FusionPBX server the real table exists and is never altered.
CREATE TABLE IF NOT EXISTS v_dialplans (
    dialplan_uuid        UUID PRIMARY KEY,
    domain_uuid          UUID,
    app_uuid             UUID,
    hostname             TEXT,
    dialplan_context     TEXT,
    dialplan_name        TEXT,
    dialplan_number      TEXT,
    dialplan_destination BOOLEAN,
    dialplan_continue    BOOLEAN,
    dialplan_xml         TEXT,
    dialplan_order       NUMERIC,
    dialplan_enabled     BOOLEAN,
    dialplan_description TEXT,
    insert_date          TIMESTAMPTZ,
    insert_user          UUID,
    update_date          TIMESTAMPTZ,
    update_user          UUID
);
