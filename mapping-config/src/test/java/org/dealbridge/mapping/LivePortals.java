package org.dealbridge.mapping;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.StageSemantics;

/**
 * An emulated portal and store seeded to match examples/s1.yaml: pipelines 0 and 2 (default stages), users 1 and 9
 * active and 5 dismissed, deal field UF_CRM_PAY_SYSTEM, pay system 1, catalog sections 12 (and 13 under it).
 */
public final class LivePortals implements AutoCloseable {

    public final BitrixEmulator emulator = BitrixEmulator.start();
    public final BitrixClient crmClient;
    public final BitrixClient storeClient;
    public final CrmApi crm;
    public final StoreApi store;

    public LivePortals() {
        emulator.crm().addPipeline(2, "Wholesale");
        emulator.crm().addUser(9, "Ivan", true);
        emulator.crm().addUser(5, "Gone", false);
        emulator.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        emulator.store().addPaySystem(1, "Cash", true);
        emulator.store().addSection(12, null, "Tools");
        emulator.store().addSection(13, 12L, "Drills");
        crmClient = client(emulator.crmWebhookUrl(), "crm");
        storeClient = client(emulator.storeWebhookUrl(), "store");
        crm = new CrmApi(crmClient);
        store = new StoreApi(storeClient);
    }

    /** A pipeline whose stages share nothing with the store's status ids, with its own success and failure stages. */
    public void addCustomPipeline(int id) {
        emulator.crm().addPipeline(id, "Custom", false);
        emulator.crm().addStage(id, "INTAKE", "Intake", StageSemantics.PROCESS);
        emulator.crm().addStage(id, "SHIPPED", "Shipped", StageSemantics.SUCCESS);
        emulator.crm().addStage(id, "DROPPED", "Dropped", StageSemantics.FAILURE);
    }

    private static BitrixClient client(String url, String portal) {
        return BitrixClient.builder(url).portal(portal).meterRegistry(new SimpleMeterRegistry())
                .rateLimit(1000, 1000).callTimeout(Duration.ofSeconds(5)).build();
    }

    @Override
    public void close() {
        crmClient.close();
        storeClient.close();
        emulator.close();
    }
}
