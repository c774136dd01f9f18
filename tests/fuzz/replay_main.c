/* replay_main.c - the main of a fuzz target built without libFuzzer (the
 * ordinary and sanitizer builds): runs the target once over each file named
 * on the command line, so make check replays the seed corpus and every
 * regression input (tests/fuzz/check_replay.sh). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *data = malloc(cap);
	size_t n;
	while (data != NULL && (n = fread(data + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap)
			data = realloc(data, cap *= 2);
	}
	int bad = ferror(f) || data == NULL;
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: read error\n", path);
		free(data);
		return -1;
	}
	/* a copy of exactly len bytes, so ASan sees a read past the input */
	uint8_t *exact = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		exact[i] = data[i];
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int failed = 0;
	for (int i = 1; i < argc; i++)
		if (run_file(argv[i]) != 0)
			failed = 1;
	printf("replayed %d inputs\n", argc - 1 - failed);
	return failed;
}
