/**
 * What a command returns to print text as it is instead of a JSON document (`tau guide`, whose
 * markdown is the one documented exception to "every command prints one JSON document").
 */
export class RawText {
  constructor(readonly text: string) {}
}
