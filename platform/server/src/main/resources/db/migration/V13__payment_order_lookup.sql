-- A webhook that names only the processor's order id (Creem's ord_...) finds its order by index, not a scan.
CREATE INDEX payment_orders_processor_order ON payment_orders (processor, processor_order_id)
    WHERE processor_order_id IS NOT NULL;
