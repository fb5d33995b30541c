/**
 * Where the CRM is called: the connector that consumes {@code deal-commands}
 * ({@link org.dealbridge.dealprojector.crm.CrmConnector}) and writes deals in batch calls
 * ({@link org.dealbridge.dealprojector.crm.DealWriter}), idempotently (look up by ORIGINATOR_ID+ORIGIN_ID before any
 * add) and without blind overwrites (expected values read back first). No mapping decisions are made here.
 */
package org.dealbridge.dealprojector.crm;
