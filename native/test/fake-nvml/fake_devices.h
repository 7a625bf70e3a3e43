/*
 * The fake GPU inventory shared by the fake NVML library and the fake nvidia-smi, so that the addon
 * (NVML) and the TypeScript fallback (nvidia-smi) can be compared on the same devices.
 *
 * Configured by the environment, read on every call so a running process sees changes:
 *   FAKE_NVML_DEVICES=N          number of GPUs, 0..4 (default 2)
 *   FAKE_NVML_MIG=1,3            indexes of GPUs in MIG mode; each has MIG devices in slots 0 and 2
 *   FAKE_NVML_INIT_ERROR=9       nvmlInit_v2 returns this code (nvidia-smi fails the same way)
 *   FAKE_NVML_INIT_DELAY_MS=N    nvmlInit_v2 sleeps this long first (a hung driver)
 *   FAKE_NVML_USED_MIB_FILE=F    memory used per GPU in MiB is read from file F on every call
 * Memory figures are whole MiB so the fallback (which only sees MiB) can match exactly.
 */
#ifndef FAKE_DEVICES_H
#define FAKE_DEVICES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_MAX_DEVICES 4
#define FAKE_MIG_SLOTS 7
#define FAKE_DRIVER_VERSION "560.35.03"
#define FAKE_CUDA_VERSION 12060
#define FAKE_TOTAL_MIB 81559ULL

static const unsigned fake_bus[FAKE_MAX_DEVICES] = {0x19, 0x3B, 0x4C, 0x5D};

static int fake_env_int(const char *name, int fallback) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0') return fallback;
  return atoi(v);
}

static unsigned fake_device_count(void) {
  int n = fake_env_int("FAKE_NVML_DEVICES", 2);
  if (n < 0) n = 0;
  if (n > FAKE_MAX_DEVICES) n = FAKE_MAX_DEVICES;
  return (unsigned)n;
}

static int fake_mig_enabled(unsigned index) {
  const char *v = getenv("FAKE_NVML_MIG");
  if (v == NULL) return 0;
  char buf[64];
  strncpy(buf, v, sizeof buf - 1);
  buf[sizeof buf - 1] = '\0';
  /* strtok_r: the fake nvidia-smi calls this while its own strtok walks the query fields. */
  char *save = NULL;
  for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
    if (*tok != '\0' && (unsigned)atoi(tok) == index) return 1;
  }
  return 0;
}

/* MIG devices live in slots 0 and 2; slot 1 and 3..6 are empty, as after a partial reconfiguration. */
static int fake_mig_slot_used(unsigned slot) { return slot == 0 || slot == 2; }

static void fake_uuid(unsigned index, char *out, size_t len) {
  snprintf(out, len, "GPU-fa4e0000-0000-4000-8000-00000000000%u", index);
}

static void fake_mig_uuid(unsigned index, unsigned slot, char *out, size_t len) {
  snprintf(out, len, "MIG-fa4e0000-0000-4000-8000-0000000%u000%u", index, slot);
}

static void fake_name(unsigned index, char *out, size_t len) {
  (void)index;
  snprintf(out, len, "NVIDIA H100 80GB HBM3");
}

static void fake_bus_id(unsigned index, char *out, size_t len) {
  snprintf(out, len, "00000000:%02X:00.0", fake_bus[index]);
}

static unsigned long long fake_used_mib(unsigned index) {
  const char *file = getenv("FAKE_NVML_USED_MIB_FILE");
  if (file != NULL && *file != '\0') {
    FILE *f = fopen(file, "r");
    if (f != NULL) {
      unsigned long long v = 0;
      int ok = fscanf(f, "%llu", &v);
      fclose(f);
      if (ok == 1) return v;
    }
  }
  return 1024ULL * (index + 1);
}

static void fake_delay(void) {
  int ms = fake_env_int("FAKE_NVML_INIT_DELAY_MS", 0);
  if (ms <= 0) return;
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

#endif
