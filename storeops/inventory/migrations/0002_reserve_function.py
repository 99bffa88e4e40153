"""PostgreSQL only: ``inventory_stock_reserve``, the flash-sale reservation in one statement.

The function runs the conditional UPDATE (``on_hand - reserved >= quantity``) and, only when it
matched, inserts the ledger line; both belong to the calling statement's transaction, so they
commit or roll back together, exactly like the data-modifying CTE of ``services._move``. A
refused attempt (most attempts in a flash sale) costs only the UPDATE: the CTE form pays for
setting up the INSERT even when nothing is inserted, which doubled the server time per attempt.
SQLite keeps the two-statement path inside a transaction (see ``services.stock_reserve_row``).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION inventory_stock_reserve(
    p_stock_id bigint, p_quantity integer, p_now timestamptz,
    p_reason text, p_reference text, p_actor text, p_via text
) RETURNS TABLE(out_move_id bigint, out_on_hand integer, out_reserved integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_on_hand integer;
    v_reserved integer;
    v_move_id bigint;
BEGIN
    UPDATE inventory_stock
       SET reserved = reserved + p_quantity, updated_at = p_now
     WHERE id = p_stock_id AND p_quantity > 0 AND on_hand - reserved >= p_quantity
    RETURNING on_hand, reserved INTO v_on_hand, v_reserved;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO inventory_stockmove (
        stock_id, kind, quantity, on_hand_delta, reserved_delta, on_hand_after, reserved_after,
        reason, reference, actor_label, via, created_at
    ) VALUES (
        p_stock_id, 'reservation', p_quantity, 0, p_quantity, v_on_hand, v_reserved,
        p_reason, p_reference, p_actor, p_via, p_now
    ) RETURNING id INTO v_move_id;
    RETURN QUERY SELECT v_move_id, v_on_hand, v_reserved;
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS inventory_stock_reserve(bigint, integer, timestamptz, text, text, text, text);"


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
