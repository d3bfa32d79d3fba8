/**
 * The core behaviour suite on ejabberd 23.01 (`mod_mqtt`), the client
 * speaking MQTT 3.1.1 and then MQTT 5 to one ejabberd node started for this file.
 */
import { afterAll } from "vitest";
import { coreBehaviourSuite } from "./core.suite.js";
import { sharedEjabberd } from "./ejabberd-driver.js";

const ejabberd = sharedEjabberd();
coreBehaviourSuite(ejabberd.kind(4));
coreBehaviourSuite(ejabberd.kind(5));
afterAll(() => ejabberd.close());
