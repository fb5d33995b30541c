/**
 * Where the CRM is called: the connector that consumes {@code deal-commands}
 * ({@link org.dealbridge.dealprojector.crm.CrmConnector}) and writes deals in batch calls
 * ({@link org.dealbridge.dealprojector.crm.DealWriter}), idempotently (look up by ORIGINATOR_ID+ORIGIN_ID before any
 * add) and without blind overwrites (the deal is read back and decided against first). A command's round is four
 * steps, one class each: read ({@link org.dealbridge.dealprojector.crm.DealReads}, with the look-ups a round's commands
 * share: {@link org.dealbridge.dealprojector.crm.DealLookups} for deals, {@link org.dealbridge.dealprojector.crm.ContactLookups}
 * for buyers' contacts, which {@link org.dealbridge.dealprojector.crm.BuyerContacts} remembers), decide
 * ({@link org.dealbridge.dealprojector.crm.CommandDecision}), write
 * ({@link org.dealbridge.dealprojector.crm.DealWrites}) and record ({@link org.dealbridge.dealprojector.crm.LinkAfterWrite});
 * where a failed call is retried is {@code DealWriter}'s rounds. No mapping decisions are made here.
 */
package org.dealbridge.dealprojector.crm;
