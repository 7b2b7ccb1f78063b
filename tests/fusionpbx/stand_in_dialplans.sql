-- FusionPBX's v_dialplans, v_dialplan_details and v_database_transactions (column names and types as
-- the app_config.php of app/dialplans and app/database_transactions declare them). Tests only: created
-- in the test database when absent; on a FusionPBX server the real tables exist and are never altered.
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

-- The details Dialplan Manager edits and FusionPBX generates dialplan_xml from (app/dialplans).
CREATE TABLE IF NOT EXISTS v_dialplan_details (
    dialplan_detail_uuid    UUID PRIMARY KEY,
    domain_uuid             UUID,
    dialplan_uuid           UUID,
    dialplan_detail_tag     TEXT,
    dialplan_detail_type    TEXT,
    dialplan_detail_data    TEXT,
    dialplan_detail_break   TEXT,
    dialplan_detail_inline  TEXT,
    dialplan_detail_group   NUMERIC,
    dialplan_detail_order   NUMERIC,
    dialplan_detail_enabled BOOLEAN,
    insert_date             TIMESTAMPTZ,
    insert_user             UUID,
    update_date             TIMESTAMPTZ,
    update_user             UUID
);

-- Advanced > Database Transactions (app/database_transactions): one row per save or delete.
CREATE TABLE IF NOT EXISTS v_database_transactions (
    database_transaction_uuid UUID PRIMARY KEY,
    domain_uuid               UUID,
    user_uuid                 UUID,
    app_name                  TEXT,
    app_uuid                  UUID,
    transaction_code          TEXT,
    transaction_address       TEXT,
    transaction_type          TEXT,
    transaction_date          TIMESTAMPTZ,
    transaction_old           TEXT,
    transaction_new           TEXT,
    transaction_result        TEXT
);

-- The destinations a transfer rule can pick (app/extensions, ring_groups, call_centers, voicemails, ivr_menus):
-- the columns the picker reads.
CREATE TABLE IF NOT EXISTS v_extensions (
    extension_uuid           UUID PRIMARY KEY,
    domain_uuid              UUID,
    extension                TEXT,
    number_alias             TEXT,
    effective_caller_id_name TEXT,
    do_not_disturb           BOOLEAN,
    enabled                  BOOLEAN,
    description              TEXT
);
CREATE TABLE IF NOT EXISTS v_ring_groups (
    ring_group_uuid      UUID PRIMARY KEY,
    domain_uuid          UUID,
    ring_group_name      TEXT,
    ring_group_extension TEXT,
    ring_group_enabled   BOOLEAN
);
CREATE TABLE IF NOT EXISTS v_call_center_queues (
    call_center_queue_uuid UUID PRIMARY KEY,
    domain_uuid            UUID,
    queue_name             TEXT,
    queue_extension        TEXT
);
CREATE TABLE IF NOT EXISTS v_voicemails (
    voicemail_uuid        UUID PRIMARY KEY,
    domain_uuid           UUID,
    voicemail_id          TEXT,
    voicemail_enabled     BOOLEAN,
    voicemail_description TEXT
);
CREATE TABLE IF NOT EXISTS v_ivr_menus (
    ivr_menu_uuid      UUID PRIMARY KEY,
    domain_uuid        UUID,
    ivr_menu_name      TEXT,
    ivr_menu_extension TEXT,
    ivr_menu_enabled   BOOLEAN
);

-- Groups, group permissions and the menu (core/groups, core/menu): what the upgrade's permission and
-- menu steps write.
CREATE TABLE IF NOT EXISTS v_groups (
    group_uuid  UUID PRIMARY KEY,
    domain_uuid UUID,
    group_name  TEXT
);
CREATE TABLE IF NOT EXISTS v_group_permissions (
    group_permission_uuid UUID PRIMARY KEY,
    domain_uuid           UUID,
    permission_name       TEXT,
    permission_protected  BOOLEAN,
    permission_assigned   BOOLEAN,
    group_name            TEXT,
    group_uuid            UUID
);
CREATE TABLE IF NOT EXISTS v_menus (
    menu_uuid        UUID PRIMARY KEY,
    menu_name        TEXT,
    menu_language    TEXT,
    menu_description TEXT
);
CREATE TABLE IF NOT EXISTS v_menu_items (
    menu_item_uuid        UUID PRIMARY KEY,
    menu_uuid             UUID,
    menu_item_parent_uuid UUID,
    uuid                  UUID,
    menu_item_title       TEXT,
    menu_item_link        TEXT,
    menu_item_category    TEXT,
    menu_item_icon        TEXT,
    menu_item_order       NUMERIC,
    menu_item_protected   BOOLEAN,
    menu_item_description TEXT
);
CREATE TABLE IF NOT EXISTS v_menu_item_groups (
    menu_item_group_uuid UUID PRIMARY KEY,
    menu_uuid            UUID,
    menu_item_uuid       UUID,
    group_name           TEXT,
    group_uuid           UUID
);
CREATE TABLE IF NOT EXISTS v_menu_languages (
    menu_language_uuid UUID PRIMARY KEY,
    menu_uuid          UUID,
    menu_item_uuid     UUID,
    menu_language      TEXT,
    menu_item_title    TEXT
);
-- database::save() writes who added and changed a row (the app's menu_add.php saves menu rows).
ALTER TABLE v_menu_items ADD COLUMN IF NOT EXISTS insert_date TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS insert_user UUID,
    ADD COLUMN IF NOT EXISTS update_date TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS update_user UUID;
ALTER TABLE v_menu_item_groups ADD COLUMN IF NOT EXISTS insert_date TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS insert_user UUID,
    ADD COLUMN IF NOT EXISTS update_date TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS update_user UUID;
ALTER TABLE v_menu_languages ADD COLUMN IF NOT EXISTS insert_date TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS insert_user UUID,
    ADD COLUMN IF NOT EXISTS update_date TIMESTAMPTZ, ADD COLUMN IF NOT EXISTS update_user UUID;
