/** The core behaviour suite on mosquitto, the client speaking MQTT 5. */
import { coreBehaviourSuite } from "./core.suite.js";
import { mosquittoKind } from "./mosquitto-driver.js";

coreBehaviourSuite(mosquittoKind(5));
