/** The core behaviour suite on aedes (in-process, MQTT 3.1.1). */
import { aedesKind } from "./aedes-driver.js";
import { coreBehaviourSuite } from "./core.suite.js";

coreBehaviourSuite(aedesKind);
