//! Idempotent EC2 calls: a `ClientToken` for every action that takes one,
//! as the AWS SDKs add it, so that a retried `RunInstances` cannot launch
//! a second set of instances; and which other actions may be sent again
//! once a request may have been carried out.

/// The EC2 actions whose request takes a `ClientToken` (botocore 1.44.8's
/// EC2 model, API version 2016-11-15: every operation with a `ClientToken`
/// member), sorted.
const ACTIONS: &[&str] = &[
    "AllocateHosts",
    "AllocateIpamPoolCidr",
    "AssociateApplicationStatusCheck",
    "AssociateClientVpnTargetNetwork",
    "AssociateIpamResourceDiscovery",
    "AssociateNetworkingFlexCostAllocationPolicy",
    "AssociateTrunkInterface",
    "AttachVerifiedAccessTrustProvider",
    "AuthorizeClientVpnIngress",
    "BatchModifyIpamRoutingPolicyRegistrations",
    "CopyFpgaImage",
    "CopyImage",
    "CopyVolumes",
    "CreateApplicationStatusCheck",
    "CreateCapacityManagerDataExport",
    "CreateCapacityReservation",
    "CreateCapacityReservationBySplitting",
    "CreateCapacityReservationCancellationQuote",
    "CreateCapacityReservationDateChangeQuote",
    "CreateCapacityReservationFleet",
    "CreateCarrierGateway",
    "CreateClientVpnEndpoint",
    "CreateClientVpnRoute",
    "CreateDelegateMacVolumeOwnershipTask",
    "CreateEgressOnlyInternetGateway",
    "CreateFleet",
    "CreateFlowLogs",
    "CreateFpgaImage",
    "CreateImageUsageReport",
    "CreateInstanceConnectEndpoint",
    "CreateInterruptibleCapacityReservationAllocation",
    "CreateIpam",
    "CreateIpamExternalResourceVerificationToken",
    "CreateIpamInternetRegistryAssociation",
    "CreateIpamPolicy",
    "CreateIpamPool",
    "CreateIpamPrefixListResolver",
    "CreateIpamPrefixListResolverTarget",
    "CreateIpamResourceDiscovery",
    "CreateIpamRoutingPolicyRegistration",
    "CreateIpamScope",
    "CreateLaunchTemplate",
    "CreateLaunchTemplateVersion",
    "CreateMacSystemIntegrityProtectionModificationTask",
    "CreateManagedPrefixList",
    "CreateMetricCategory",
    "CreateNatGateway",
    "CreateNetworkAcl",
    "CreateNetworkInsightsAccessScope",
    "CreateNetworkInsightsPath",
    "CreateNetworkInterface",
    "CreateNetworkingFlexCostAllocationPolicy",
    "CreateReplaceRootVolumeTask",
    "CreateReservedInstancesListing",
    "CreateRouteServer",
    "CreateRouteServerEndpoint",
    "CreateRouteTable",
    "CreateSecondaryNetwork",
    "CreateSecondarySubnet",
    "CreateTrafficMirrorFilter",
    "CreateTrafficMirrorFilterRule",
    "CreateTrafficMirrorSession",
    "CreateTrafficMirrorTarget",
    "CreateVerifiedAccessEndpoint",
    "CreateVerifiedAccessGroup",
    "CreateVerifiedAccessInstance",
    "CreateVerifiedAccessTrustProvider",
    "CreateVolume",
    "CreateVpcEndpoint",
    "CreateVpcEndpointConnectionNotification",
    "CreateVpcEndpointServiceConfiguration",
    "DeleteApplicationStatusCheck",
    "DeleteIpamRoutingPolicyRegistration",
    "DeleteSecondaryNetwork",
    "DeleteSecondarySubnet",
    "DeleteVerifiedAccessEndpoint",
    "DeleteVerifiedAccessGroup",
    "DeleteVerifiedAccessInstance",
    "DeleteVerifiedAccessTrustProvider",
    "DetachVerifiedAccessTrustProvider",
    "DisableApplicationStatusCheckSuppression",
    "DisableCapacityManager",
    "DisassociateApplicationStatusCheck",
    "DisassociateTrunkInterface",
    "EnableApplicationStatusCheckSuppression",
    "EnableCapacityManager",
    "EnableIpamInternetRegistryAssociation",
    "ExportImage",
    "ImportImage",
    "ImportSnapshot",
    "ModifyApplicationStatusCheck",
    "ModifyClientVpnEndpointAuthorizationPolicy",
    "ModifyInstanceCreditSpecification",
    "ModifyIpamPrefixListResolverTarget",
    "ModifyIpamRoutingPolicyRegistration",
    "ModifyLaunchTemplate",
    "ModifyNetworkingFlexCostAllocationPolicy",
    "ModifyReservedInstances",
    "ModifyVerifiedAccessEndpoint",
    "ModifyVerifiedAccessEndpointPolicy",
    "ModifyVerifiedAccessGroup",
    "ModifyVerifiedAccessGroupPolicy",
    "ModifyVerifiedAccessInstance",
    "ModifyVerifiedAccessInstanceLoggingConfiguration",
    "ModifyVerifiedAccessTrustProvider",
    "MoveCapacityReservationInstances",
    "ProvisionIpamPoolCidr",
    "PurchaseHostReservation",
    "PurchaseScheduledInstances",
    "RequestSpotInstances",
    "RunInstances",
    "RunScheduledInstances",
    "StartNetworkInsightsAccessScopeAnalysis",
    "StartNetworkInsightsAnalysis",
    "UpdateCapacityManagerMonitoredTagKeys",
    "UpdateCapacityManagerOrganizationsAccess",
];

/// Whether EC2 `action` takes a `ClientToken`.
pub(crate) fn takes_client_token(action: &str) -> bool {
    ACTIONS.binary_search(&action).is_ok()
}

/// Whether sending EC2 `action` twice does no more than sending it once,
/// so that it may be retried although the first request may have been
/// carried out: the read-only actions (`Describe*`, `Get*`, `List*`,
/// `Search*`), and any call that carries a `ClientToken`.
pub(crate) fn may_repeat(action: &str, has_client_token: bool) -> bool {
    has_client_token
        || ["Describe", "Get", "List", "Search"]
            .iter()
            .any(|p| action.starts_with(p))
}

/// A fresh client token: a random (version 4) UUID, as the SDKs make them.
pub(crate) fn new_client_token() -> crate::Result<String> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b)
        .map_err(|e| crate::Error::other(format!("cannot make a client token: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_holds_the_launches() {
        assert!(ACTIONS.windows(2).all(|w| w[0] < w[1]));
        for a in [
            "RunInstances",
            "CreateFleet",
            "RequestSpotInstances",
            "CreateVolume",
        ] {
            assert!(takes_client_token(a), "{a}");
        }
        for a in ["DescribeImages", "TerminateInstances", "runinstances"] {
            assert!(!takes_client_token(a), "{a}");
        }
        assert!(may_repeat("DescribeImages", false));
        assert!(may_repeat("RunInstances", true));
        assert!(!may_repeat("TerminateInstances", false));
        assert!(!may_repeat("CreateTags", false));
    }

    #[test]
    fn client_tokens_are_fresh_uuids() {
        let a = new_client_token().unwrap();
        let b = new_client_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]), "{a}");
        assert!(a
            .bytes()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }));
    }
}
