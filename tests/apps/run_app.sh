#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs a real application nobody here wrote (vkcube, vkd3d-gears, vkd3d-triangle,
# glxgears on zink) on lavapipe under a private Xvfb, with VK_LAYER_KMT_offer_reclaim
# loaded implicitly from the build tree and VK_LAYER_KHRONOS_validation below it
# (an implicit layer always sits above explicit ones), and checks that nothing
# changes: exit status 0, frames presented, the layer really in the device chain
# above validation, no message of the layer, no validation error.
#
# usage: run_app.sh APP CONFIG VKDATA_DIR [ICD_JSON]
#   APP     vkcube | vkd3d-gears | vkd3d-triangle | zink-glxgears
#   CONFIG  baseline     the layer's manifest is found but the layer is not enabled:
#                        the app alone must be validation-clean, so that an error in
#                        the other configurations is attributable to the layer
#           passthrough  VK_KMT_OFFER_RECLAIM_ENABLE=1, default settings
#           used         ENABLE=1 plus non-default settings (DISCARD=always, ...), from
#                        the environment and from a vk_layer_settings.txt; the apps do
#                        not enable VK_KMT_offer_reclaim, so this is still a pass-through
#   VKDATA_DIR  <build>/vkdata (XDG_DATA_HOME=<build>/vkdata/implicit)
# Exit: 0 pass, 1 fail, 77 skipped (a tool is missing).
# KMT_APPS_KEEP=1 keeps the work folder (logs) and prints its path.
set -u

APP=${1:?usage: run_app.sh APP CONFIG VKDATA_DIR [ICD_JSON]}
CONFIG=${2:?config}
VKDATA=${3:?vkdata dir}
ICD=${4:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}
LAYER=VK_LAYER_KMT_offer_reclaim

# Validation errors an app makes by itself on this stack (seen in its baseline run, without
# the layer): reported, never counted. zink (Mesa 22.3) leaves semaphores alive at
# vkDestroyDevice, more the longer it runs; the layer creates no object on a device that
# did not enable its extension, so none of these can be the layer's.
APP_OWN_RE='^$'
[ "$APP" = zink-glxgears ] &&
    APP_OWN_RE='VUID-vkDestroyDevice-device-00378\(ERROR .*VkSemaphore 0x[0-9a-f]+\[\] has not been destroyed'

fail() { echo "FAIL [$APP/$CONFIG]: $*" >&2; FAILED=1; }
skip() { echo "SKIP [$APP/$CONFIG]: $*"; exit 77; }
FAILED=0

case $APP in
    vkcube) TOOLS="Xvfb vkcube" ;;
    vkd3d-gears | vkd3d-triangle) TOOLS="Xvfb xdotool $APP" ;;
    zink-glxgears) TOOLS="Xvfb xdotool glxgears" ;;
    *) echo "unknown app $APP" >&2; exit 2 ;;
esac
case $CONFIG in baseline | passthrough | used) ;; *) echo "unknown config $CONFIG" >&2; exit 2 ;; esac
for t in $TOOLS; do command -v "$t" >/dev/null 2>&1 || skip "$t not installed"; done
[ -f "$ICD" ] || skip "no lavapipe ICD at $ICD"
for m in VkLayer_khronos_validation VkLayer_MESA_overlay; do
    [ -f "/usr/share/vulkan/explicit_layer.d/$m.json" ] || skip "$m not installed"
done
MANIFEST="$VKDATA/implicit/vulkan/implicit_layer.d/VkLayer_kmt_offer_reclaim.json"
[ -f "$MANIFEST" ] || { echo "FAIL: no build-tree manifest $MANIFEST" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kmt-app-$APP-$CONFIG.XXXXXX") || exit 1
XVFB_PID=
APP_PID=
cleanup() {
    [ -n "$APP_PID" ] && kill -9 "$APP_PID" 2>/dev/null
    if [ -n "$XVFB_PID" ]; then
        kill "$XVFB_PID" 2>/dev/null
        wait "$XVFB_PID" 2>/dev/null
    fi
    if [ "${KMT_APPS_KEEP:-0}" = 1 ]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- environment: only what this test sets --------------------------------------
for v in $(env | sed -n 's/^\(VK_KMT_OFFER_RECLAIM_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset VK_ICD_FILENAMES VK_ADD_DRIVER_FILES VK_LAYER_PATH VK_ADD_LAYER_PATH VK_INSTANCE_LAYERS \
      VK_LOADER_LAYERS_DISABLE VK_LAYER_DISABLES VK_LAYER_ENABLES XDG_CONFIG_HOME
export VK_DRIVER_FILES="$ICD"
export XDG_DATA_HOME="$VKDATA/implicit"
export VK_LOADER_DEBUG=layer                 # proves where the layer sits in each chain
export XDG_RUNTIME_DIR="$WORK/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
export VK_LAYER_SETTINGS_PATH="$WORK/vk_layer_settings.txt"
VVL_LOG="$WORK/validation.log"
OVERLAY_CSV="$WORK/frames.csv"
cat >"$VK_LAYER_SETTINGS_PATH" <<SETTINGS
khronos_validation.report_flags = error,warn
khronos_validation.debug_action = VK_DBG_LAYER_ACTION_LOG_MSG
khronos_validation.log_filename = $VVL_LOG
SETTINGS
# Validation below the layer; Mesa's overlay (no_display: it only counts presents) below that.
export VK_LOADER_LAYERS_ENABLE=VK_LAYER_KHRONOS_validation,VK_LAYER_MESA_overlay
export VK_LAYER_MESA_OVERLAY_CONFIG="output_file=$OVERLAY_CSV,fps,frame,no_display,fps_sampling_period=100"
case $CONFIG in
    passthrough)
        export VK_KMT_OFFER_RECLAIM_ENABLE=1 ;;
    used)
        export VK_KMT_OFFER_RECLAIM_ENABLE=1 VK_KMT_OFFER_RECLAIM_DISCARD=always \
               VK_KMT_OFFER_RECLAIM_DISCARD_FILL=poison VK_KMT_OFFER_RECLAIM_OFFERED_PRIORITY=0.25 \
               VK_KMT_OFFER_RECLAIM_STATS=1 VK_KMT_OFFER_RECLAIM_LOG_LEVEL=verbose
        cat >>"$VK_LAYER_SETTINGS_PATH" <<SETTINGS
kmt_offer_reclaim.budget_mb = 64
kmt_offer_reclaim.discard_rate = 1000
kmt_offer_reclaim.discard_seed = 7
SETTINGS
        ;;
esac

# ---- a private X server: -displayfd picks a free display number ---------------------
Xvfb -displayfd 3 -screen 0 640x480x24 -nolisten tcp 3>"$WORK/display" >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 100); do
    [ -s "$WORK/display" ] && break
    kill -0 "$XVFB_PID" 2>/dev/null || break
    sleep 0.05
done
[ -s "$WORK/display" ] || { cat "$WORK/xvfb.log" >&2; echo "FAIL: Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$(head -n1 "$WORK/display")"

# ---- the app ---------------------------------------------------------------------------
OUT="$WORK/stdout"
ERR="$WORK/stderr"
# Waits up to $1 seconds for the app to exit; sets APP_RC (124 after killing it).
wait_app() {
    for _ in $(seq $(($1 * 10))); do
        kill -0 "$APP_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$APP_PID" 2>/dev/null; then
        kill -9 "$APP_PID" 2>/dev/null
        wait "$APP_PID" 2>/dev/null
        APP_RC=124
    else
        wait "$APP_PID"
        APP_RC=$?
    fi
    APP_PID=
}
# Polls for the app's top-level window by name (the app owns the only windows here).
find_window() {
    WINDOW=
    for _ in $(seq 150); do
        WINDOW=$(timeout 5 xdotool search --name "$1" 2>/dev/null | head -n1)
        [ -n "$WINDOW" ] && return 0
        kill -0 "$APP_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
# Escape quits each of these apps. xdotool may report BadWindow for the key
# release when the app is already gone: its status means nothing.
press_escape() { timeout 5 xdotool key --window "$WINDOW" Escape >/dev/null 2>&1; }

START=$(date +%s.%N)
case $APP in
    vkcube)
        vkcube --c 100 >"$OUT" 2>"$ERR" &
        APP_PID=$!
        wait_app 60
        MIN_FRAMES=50 ;;
    vkd3d-gears | vkd3d-triangle)
        "$APP" >"$OUT" 2>"$ERR" &
        APP_PID=$!
        find_window '^Vkd3d' || fail "no window appeared"
        if [ -n "$WINDOW" ]; then
            sleep 1.5
            # vkd3d-triangle draws on Expose only: unmapping and mapping the window makes it
            # present again, spread over several overlay sampling periods.
            for _ in 1 2 3 4 5; do
                timeout 5 xdotool windowunmap --sync "$WINDOW" >/dev/null 2>&1
                timeout 5 xdotool windowmap --sync "$WINDOW" >/dev/null 2>&1
                sleep 0.2
            done
            press_escape
        fi
        wait_app 20
        MIN_FRAMES=3 ;;
    zink-glxgears)
        # GL on Vulkan; zink presents with X11 images, not vkQueuePresentKHR, so the
        # frames are glxgears' own "N frames in 5.0 seconds" (printed every 5 s).
        LIBGL_ALWAYS_SOFTWARE=1 GALLIUM_DRIVER=zink \
            glxgears >"$OUT" 2>"$ERR" &
        APP_PID=$!
        find_window '^glxgears$' || fail "no window appeared"
        if [ -n "$WINDOW" ]; then
            for _ in $(seq 100); do
                grep -q ' frames in ' "$OUT" 2>/dev/null && break
                kill -0 "$APP_PID" 2>/dev/null || break
                sleep 0.1
            done
            press_escape
        fi
        wait_app 20
        MIN_FRAMES=1 ;;
esac
ELAPSED=$(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')

# ---- checks ------------------------------------------------------------------------------
[ "$APP_RC" = 0 ] || fail "exit status $APP_RC (124: did not exit)"

if [ "$APP" = zink-glxgears ]; then
    FRAMES=$(sed -n 's/^\([0-9][0-9]*\) frames in .*/\1/p' "$OUT" | awk '{s += $1} END {print s + 0}')
else
    # frames.csv: one line per sampling period, column 4 = frames presented in it.
    FRAMES=$(awk -F, 'NR > 1 {s += $4} END {print s + 0}' "$OVERLAY_CSV" 2>/dev/null || echo 0)
fi
[ "${FRAMES:-0}" -ge "$MIN_FRAMES" ] || fail "frames presented: ${FRAMES:-0} (want >= $MIN_FRAMES)"

# The loader's own account of the chains (VK_LOADER_DEBUG=layer).
grep -q "Insert instance layer \"VK_LAYER_KHRONOS_validation\"" "$ERR" || fail "validation was not loaded"
if [ "$CONFIG" = baseline ]; then
    grep -q "layer \"$LAYER\"" "$ERR" && fail "$LAYER was loaded although not enabled"
else
    grep -q "Inserted device layer \"$LAYER\"" "$ERR" || fail "$LAYER is not in the device chain"
    # In the first device call stack the layer comes before (above) validation.
    ORDER=$(awk '/vkCreateDevice layer callstack/ {on = 1} on && /^LAYER: +VK_LAYER_/ {print $2} on && /<Device>/ {exit}' "$ERR" | tr '\n' ' ')
    case $ORDER in
        "$LAYER "*VK_LAYER_KHRONOS_validation*) ;;
        *) fail "device chain order is '$ORDER' (want $LAYER above VK_LAYER_KHRONOS_validation)" ;;
    esac
fi
grep -E "^ERROR" "$ERR" >/dev/null && fail "loader errors: $(grep -E '^ERROR' "$ERR" | head -3)"
grep -E "$LAYER (error|warning)" "$ERR" "$OUT" >/dev/null &&
    fail "the layer reported: $(grep -hE "$LAYER (error|warning)" "$ERR" "$OUT" | head -3)"

# Validation: every error counts but the app's own (the baseline run shows the app alone
# makes no other).
touch "$VVL_LOG"
grep -hE '\(ERROR / ' "$VVL_LOG" "$OUT" "$ERR" >"$WORK/errors"
OWN=$(grep -cE "$APP_OWN_RE" "$WORK/errors")
grep -vE "$APP_OWN_RE" "$WORK/errors" >"$WORK/unexpected"
ERRORS=$(wc -l <"$WORK/unexpected")
[ "$ERRORS" = 0 ] || fail "$ERRORS validation error(s):
$(cut -c1-400 "$WORK/unexpected" | head -5)"

echo "[$APP/$CONFIG] exit $APP_RC, $FRAMES frames, ${ELAPSED}s, validation errors: $ERRORS (+$OWN the app's own)"
if [ "$FAILED" != 0 ]; then
    echo "--- stderr (last 40 lines, loader debug omitted)" >&2
    grep -v '^LAYER:\|^INFO\|^DEBUG' "$ERR" | tail -n 40 >&2
    exit 1
fi
exit 0
