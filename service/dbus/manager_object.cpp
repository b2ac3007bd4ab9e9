#include "service/dbus/manager_object.hpp"

#include "service/dbus/boundary.hpp"
#include "service/dbus/names.hpp"

#include <algorithm>
#include <cctype>
#include <syslog.h>

namespace vpnsteer::dbus {

namespace {

std::string joinLines(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) {
        text += (text.empty() ? "" : "\n") + line;
    }
    return text;
}

} // namespace

ManagerObject::ManagerObject(sdbus::IConnection& connection, rules::SystemWideRules& rules,
                             SpecLoader loadSpec, std::string specPath, Journal journal)
    : AdaptorInterfaces(connection, managerPath)
    , rules_(rules)
    , loadSpec_(std::move(loadSpec))
    , specPath_(std::move(specPath))
    , journal_(std::move(journal))
    , connection_(connection) {
    registerAdaptor();
}

ManagerObject::~ManagerObject() {
    vpns_.clear();
    unregisterAdaptor();
}

void ManagerObject::journal(int priority, std::string_view text) const {
    if (journal_) {
        journal_(priority, text);
    }
}

void ManagerObject::journal(const rules::KernelReport& report) const {
    for (const std::string& change : report.changes) {
        journal(LOG_INFO, change);
    }
    for (const std::string& failure : report.failures) {
        journal(LOG_ERR, failure);
    }
}

void ManagerObject::start() {
    ParseResult loaded = loadSpec_();
    for (const SpecError& error : loaded.errors) {
        journal(LOG_ERR, error.toString());
    }
    if (!loaded.ok()) {
        journal(LOG_WARNING, specPath_ + " has errors: serving its " +
                                 std::to_string(loaded.spec.vpns.size()) +
                                 " valid VPN(s), and leaving vpnsteer's other rules alone");
    }
    applySpec(std::move(loaded.spec), loaded.ok());
    const std::string carrier = rules_.carrier();
    journal(LOG_INFO, "serving " + std::to_string(spec_.vpns.size()) + " VPN(s); " +
                          (carrier.empty() ? "none is system-wide" : carrier + " is system-wide"));
}

void ManagerObject::reloadFromSignal() {
    try {
        Reload();
        journal(LOG_INFO, "reloaded " + specPath_);
    } catch (const sdbus::Error& error) {
        journal(LOG_ERR, "reloading " + specPath_ + ": " + error.getMessage());
    }
}

std::vector<std::string> ManagerObject::applySpec(Spec spec, bool removeUnexplained) {
    const Snapshot before = snapshot();
    rules::KernelReport report = rules_.apply(spec, removeUnexplained);
    journal(report);
    spec_ = std::move(spec);
    for (auto it = vpns_.begin(); it != vpns_.end();) {
        it = spec_.vpns.contains(it->first) ? std::next(it) : vpns_.erase(it);
    }
    for (const auto& [name, vpn] : spec_.vpns) {
        if (auto found = vpns_.find(name); found != vpns_.end()) {
            found->second->update(vpn);
        } else {
            VpnActions& actions = *this;
            vpns_.emplace(name, std::make_unique<VpnObject>(connection_, vpn, actions));
        }
    }
    for (SpecFollower* follower : followers_) {
        journal(follower->specApplied(spec_));
    }
    followCarrier();
    announce(before);
    return report.failures;
}

void ManagerObject::followCarrier() noexcept {
    try {
        const Vpn* carrier = spec_.find(rules_.carrier());
        for (SpecFollower* follower : followers_) {
            journal(follower->carrierChanged(carrier));
        }
    } catch (const std::exception& error) {
        journal(LOG_ERR, std::string("following the system-wide VPN: ") + error.what());
    }
}

std::optional<TunnelFigures> ManagerObject::tunnelFigures(const std::string& name) {
    for (TunnelFiguresSource* source : tunnelFigures_) {
        if (auto figures = source->tunnelFigures(name)) {
            return figures;
        }
    }
    return std::nullopt;
}

void ManagerObject::setTransportMode(const std::string& name, const std::string& mode) {
    const Vpn& vpn = findVpn(name);
    if (!vpn.fastd) {
        throw sdbus::Error(errors::wrongProtocol,
                           "VPN \"" + name + "\" is a " + std::string(toString(vpn.protocol)) +
                               " VPN; only fastd VPNs have a transport mode");
    }
    if (!vpn.fastd->configurable) {
        throw sdbus::Error(errors::notConfigurable,
                           "VPN \"" + name +
                               "\" is not configurable; set \"configurable\": true in the spec");
    }
    FastdTransportMode chosen;
    if (mode == "secure") {
        chosen = FastdTransportMode::secure;
    } else if (mode == "performance") {
        chosen = FastdTransportMode::performance;
    } else {
        // Quoted back only when short and printable: the caller's bytes go into logs.
        const bool printable =
            mode.size() <= 32 && std::all_of(mode.begin(), mode.end(), [](char c) {
                return std::isprint(static_cast<unsigned char>(c)) != 0;
            });
        throw sdbus::Error(errors::invalidArgument,
                           "transport mode must be \"secure\" or \"performance\", got " +
                               (printable
                                    ? "\"" + mode + "\""
                                    : "a string of " + std::to_string(mode.size()) + " bytes"));
    }
    if (transportModes_ == nullptr) {
        throw sdbus::Error(errors::failed, "this vpnsteerd does not run fastd tunnels");
    }
    transportModes_->setTransportMode(vpn, chosen);
    journal(LOG_NOTICE, "VPN " + name + " now uses the " + mode + " transport mode");
}

void ManagerObject::announceTunnel(const std::string& name,
                                   const std::vector<std::string>& properties) noexcept {
    try {
        if (auto found = vpns_.find(name); found != vpns_.end() && !properties.empty()) {
            found->second->announceTunnel(properties);
        }
    } catch (const std::exception& error) {
        journal(LOG_WARNING, "announcing a change of " + name + " on D-Bus: " + error.what());
    }
}

ManagerObject::Snapshot ManagerObject::snapshot() const {
    return Snapshot{rules_.carrier(), rules_.systemWide()};
}

void ManagerObject::announce(const Snapshot& before) noexcept {
    try {
        const Snapshot after = snapshot();
        if (after.carrier != before.carrier) {
            emitPropertiesChangedSignal(managerInterface, {"SystemWide"});
        }
        for (const auto& [name, object] : vpns_) {
            if (before.systemWide.contains(name) != after.systemWide.contains(name)) {
                object->announceSystemWide();
            }
        }
    } catch (const std::exception& error) {
        journal(LOG_WARNING, std::string("announcing a change on D-Bus: ") + error.what());
    }
}

const Vpn& ManagerObject::findVpn(const std::string& name) const {
    if (name.empty()) {
        throw sdbus::Error(errors::invalidArgument, "the VPN name is empty");
    }
    if (const Vpn* vpn = spec_.find(name)) {
        return *vpn;
    }
    if (!isValidInterfaceName(name)) {
        throw sdbus::Error(errors::invalidArgument,
                           "'" + name +
                               "' cannot be a VPN name: a VPN is named after its "
                               "interface (at most 15 bytes, no '/', ':' or spaces)");
    }
    std::string known;
    for (const auto& [vpnName, vpn] : spec_.vpns) {
        known += (known.empty() ? "" : ", ") + vpnName;
    }
    throw sdbus::Error(errors::unknownVpn,
                       "no VPN named '" + name + "' in " + specPath_ +
                           (known.empty() ? " (it has none)" : " (it has: " + known + ")"));
}

template <typename Change>
void ManagerObject::changeSystemWide(std::string_view what, Change&& change) {
    const Snapshot before = snapshot();
    const sdbus::Message* call = getObject().getCurrentlyProcessedMessage();
    const std::string caller = call != nullptr ? " (asked by " + call->getSender() + ")" : "";
    try {
        journal(change());
        journal(LOG_INFO, std::string(what) + caller);
    } catch (const std::exception& error) {
        journal(LOG_ERR, std::string(what) + caller + " failed: " + error.what());
        followCarrier();
        announce(before);
        throw;
    }
    followCarrier();
    announce(before);
}

std::vector<sdbus::Struct<std::string, uint32_t, sdbus::ObjectPath, bool>>
ManagerObject::ListVpns() {
    return atBoundary([&] {
        std::vector<const Vpn*> byId;
        for (const auto& [name, vpn] : spec_.vpns) {
            byId.push_back(&vpn);
        }
        std::sort(byId.begin(), byId.end(),
                  [](const Vpn* a, const Vpn* b) { return a->id < b->id; });
        std::vector<sdbus::Struct<std::string, uint32_t, sdbus::ObjectPath, bool>> list;
        for (const Vpn* vpn : byId) {
            list.emplace_back(vpn->name, static_cast<uint32_t>(vpn->id),
                              sdbus::ObjectPath(vpnObjectPath(vpn->name)),
                              rules_.isSystemWide(vpn->name));
        }
        return list;
    });
}

void ManagerObject::upVpn(const std::string& name) {
    atBoundary([&] {
        const Vpn& vpn = findVpn(name);
        changeSystemWide("up " + name, [&] { return rules_.up(vpn); });
    });
}

void ManagerObject::downVpn(const std::string& name) {
    atBoundary([&] {
        findVpn(name);
        changeSystemWide("down " + name, [&] { return rules_.down(name); });
    });
}

void ManagerObject::Up(const std::string& name) {
    upVpn(name);
}

void ManagerObject::Down(const std::string& name) {
    downVpn(name);
}

void ManagerObject::Switch(const std::string& name) {
    atBoundary([&] {
        const Vpn& vpn = findVpn(name);
        changeSystemWide("switch to " + name, [&] { return rules_.switchTo(vpn); });
    });
}

void ManagerObject::Reload() {
    atBoundary([&] {
        ParseResult loaded = loadSpec_();
        if (!loaded.ok()) {
            std::vector<std::string> lines;
            for (const SpecError& error : loaded.errors) {
                lines.push_back(error.toString());
            }
            throw sdbus::Error(errors::invalidSpec,
                               specPath_ + " has " + std::to_string(lines.size()) +
                                   " error(s); the spec in force stays:\n" + joinLines(lines));
        }
        std::vector<std::string> failures = applySpec(std::move(loaded.spec), true);
        if (!failures.empty()) {
            throw sdbus::Error(errors::failed, "reloaded " + specPath_ +
                                                   ", but the kernel refused:\n" +
                                                   joinLines(failures));
        }
    });
}

} // namespace vpnsteer::dbus
