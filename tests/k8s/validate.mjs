// tests/k8s/validate.mjs - validates Kubernetes manifests (multi-document
// YAML files named on the command line, "-" for stdin) against the schemas
// of the npm packages kubernetes-models (core and apps APIs) and
// @kubernetes-models/prometheus-operator (PodMonitor). Prints one line per
// object; exits 1 when an object fails or its kind has no model.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

async function model(apiVersion, kind) {
	const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
	const path =
		group === "monitoring.coreos.com"
			? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
			: group === ""
				? `kubernetes-models/${version}/${kind}`
				: `kubernetes-models/${group}/${version}/${kind}`;
	const mod = await import(path);
	return mod[kind] ?? mod.default;
}

let failed = 0;
for (const file of process.argv.slice(2)) {
	const text = readFileSync(file === "-" ? 0 : file, "utf8");
	for (const doc of parseAllDocuments(text)) {
		if (doc.errors.length) {
			console.log(`FAIL ${file}: YAML: ${doc.errors[0].message}`);
			failed++;
			continue;
		}
		const obj = doc.toJS();
		if (!obj) continue;
		const name = `${obj.kind}/${obj.metadata?.name}`;
		try {
			const Model = await model(obj.apiVersion, obj.kind);
			new Model(obj).validate();
			console.log(`ok   ${name}`);
		} catch (e) {
			console.log(`FAIL ${name}: ${e.message.split("\n").slice(0, 3).join(" ")}`);
			failed++;
		}
	}
}
process.exit(failed ? 1 : 0);
