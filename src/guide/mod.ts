/**
 * The guide for agents: `tau guide` prints it, AGENTS.md holds it, install.sh makes it a Claude
 * Code skill.
 *
 * @module
 */
export {
  agentGuide,
  agentsMarkdown,
  ctxHeading,
  GUIDE_DESCRIPTION,
  type GuideSources,
  loadSdkDocs,
  renderGuide,
  type SdkDocs,
} from "./guide.ts";
export { commandHeading } from "./reference.ts";
export { CODE_ADVICE, KIND_ADVICE } from "./advice.ts";
