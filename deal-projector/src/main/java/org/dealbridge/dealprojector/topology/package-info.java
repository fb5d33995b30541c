/**
 * Where the mapping is applied: the Kafka Streams topology that turns {@code order-changes} into deal commands
 * ({@link org.dealbridge.dealprojector.topology.DealProjectorTopology}), with the rules themselves in
 * {@link org.dealbridge.dealprojector.topology.OrderToDeal}. Nothing here calls the CRM.
 */
package org.dealbridge.dealprojector.topology;
