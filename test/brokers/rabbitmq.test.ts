/**
 * The core behaviour suite on RabbitMQ 3.10 (`rabbitmq_mqtt` +
 * `rabbitmq_web_mqtt`, MQTT 3.1.1), one node started for this file.
 */
import { afterAll } from "vitest";
import { coreBehaviourSuite } from "./core.suite.js";
import { sharedRabbitMq } from "./rabbitmq-driver.js";

const rabbitmq = sharedRabbitMq();
coreBehaviourSuite(rabbitmq.kind);
afterAll(() => rabbitmq.close());
