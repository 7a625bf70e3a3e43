/*
 * A fake nvidia-smi for tests of the TypeScript fallback: the three invocations it makes
 * (--query-gpu=... --format=csv,noheader,nounits, -L, --version), printed in nvidia-smi's own
 * formats over the same inventory as the fake NVML library (fake_devices.h).
 * Build: cc -o nvidia-smi fake_nvidia_smi.c
 */
#include "fake_devices.h"

static void print_field(unsigned i, const char *field) {
  char buf[96];
  unsigned long long used = fake_used_mib(i);
  if (used > FAKE_TOTAL_MIB) used = FAKE_TOTAL_MIB;
  if (strcmp(field, "index") == 0) printf("%u", i);
  else if (strcmp(field, "uuid") == 0) { fake_uuid(i, buf, sizeof buf); printf("%s", buf); }
  else if (strcmp(field, "name") == 0) { fake_name(i, buf, sizeof buf); printf("%s", buf); }
  else if (strcmp(field, "memory.total") == 0) printf("%llu", FAKE_TOTAL_MIB);
  else if (strcmp(field, "memory.used") == 0) printf("%llu", used);
  else if (strcmp(field, "memory.free") == 0) printf("%llu", FAKE_TOTAL_MIB - used);
  else if (strcmp(field, "pci.bus_id") == 0) { fake_bus_id(i, buf, sizeof buf); printf("%s", buf); }
  else if (strcmp(field, "mig.mode.current") == 0) printf("%s", fake_mig_enabled(i) ? "Enabled" : "Disabled");
  else if (strcmp(field, "driver_version") == 0) printf("%s", FAKE_DRIVER_VERSION);
  else {
    fprintf(stderr, "Field \"%s\" is not a valid field to query.\n", field);
    exit(2);
  }
}

int main(int argc, char **argv) {
  fake_delay();
  if (fake_env_int("FAKE_NVML_INIT_ERROR", 0) != 0) {
    printf("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure "
           "that the latest NVIDIA driver is installed and running.\n\n");
    return 9;
  }
  unsigned n = fake_device_count();
  for (int a = 1; a < argc; a++) {
    if (strncmp(argv[a], "--query-gpu=", 12) == 0) {
      if (n == 0) { printf("No devices were found\n"); return 6; }
      for (unsigned i = 0; i < n; i++) {
        char fields[512];
        strncpy(fields, argv[a] + 12, sizeof fields - 1);
        fields[sizeof fields - 1] = '\0';
        int first = 1;
        for (char *f = strtok(fields, ","); f != NULL; f = strtok(NULL, ",")) {
          if (!first) printf(", ");
          print_field(i, f);
          first = 0;
        }
        printf("\n");
      }
      return 0;
    }
    if (strcmp(argv[a], "-L") == 0 || strcmp(argv[a], "--list-gpus") == 0) {
      if (n == 0) { printf("No devices were found\n"); return 6; }
      char name[96], uuid[96];
      for (unsigned i = 0; i < n; i++) {
        fake_name(i, name, sizeof name);
        fake_uuid(i, uuid, sizeof uuid);
        printf("GPU %u: %s (UUID: %s)\n", i, name, uuid);
        if (!fake_mig_enabled(i)) continue;
        unsigned k = 0;
        for (unsigned s = 0; s < FAKE_MIG_SLOTS; s++) {
          if (!fake_mig_slot_used(s)) continue;
          fake_mig_uuid(i, s, uuid, sizeof uuid);
          printf("  MIG 3g.40gb     Device  %u: (UUID: %s)\n", k++, uuid);
        }
      }
      return 0;
    }
    if (strcmp(argv[a], "--version") == 0) {
      printf("NVIDIA-SMI version  : %s\nNVML version        : 560.35\nDRIVER version      : %s\n"
             "CUDA Version        : %d.%d\n",
             FAKE_DRIVER_VERSION, FAKE_DRIVER_VERSION, FAKE_CUDA_VERSION / 1000,
             (FAKE_CUDA_VERSION % 1000) / 10);
      return 0;
    }
  }
  fprintf(stderr, "fake nvidia-smi: unsupported arguments\n");
  return 2;
}
